import { ApiError } from '../errors.js';
import { CODE_TTL_MINUTES, newCode } from '../domain/codes.js';
import { emailKey } from '../domain/normalise.js';
import { dealerCodes } from '../db/one-time-codes.js';
import { findDealerAccount, findDealerAccountByEmail, type DealerAccount } from '../db/dealers.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';
import { dealerCodeEmail } from '../notifications/templates.js';

/**
 * The dealer's sign-in without a password: the e-mail the dealer registered with, then a
 * one-time code sent there (the seller's rules and code module, src/db/one-time-codes.ts).
 * Any registered dealer may sign in, whatever their approval state, so that a pending or
 * suspended dealer can see where they stand; what they may do is the guards' business.
 */

const DEALER_CODE_LENGTH = 6;

type SessionDeps = Pick<Deps, 'db' | 'services' | 'config'>;

/** The dealer of an e-mail however it is typed; a look-alike address (not NFKC) is nobody. */
const findByEmail = (deps: Pick<Deps, 'db'>, email: string) => {
  const key = emailKey(email);
  return key === null ? Promise.resolve(null) : findDealerAccountByEmail(deps.db, key);
};

/**
 * Finds the dealer, stores a new code and sends it (Brevo: template BREVO_DEALER_CODE_TEMPLATE_ID,
 * else plain); nothing when no dealer has the e-mail. The caller runs it after answering, so
 * a hit and a miss look and take the same; errors are only logged.
 */
export async function issueDealerCode(deps: SessionDeps, log: Logger, email: string): Promise<void> {
  const dealer = await findByEmail(deps, email);
  if (!dealer) return;
  const code = newCode(DEALER_CODE_LENGTH);
  const codeId = await deps.db.transaction((tx) => dealerCodes.issue(tx, dealer.id, code));
  const templateId = deps.config.BREVO_DEALER_CODE_TEMPLATE_ID;
  const to = { email: dealer.email, name: dealer.company_name };
  const plain = dealerCodeEmail({ company_name: dealer.company_name, code, minutes: CODE_TTL_MINUTES });
  try {
    await (templateId
      ? deps.services.brevo.sendTemplateEmail({
          to,
          templateId,
          params: { code, company_name: dealer.company_name, minutes: CODE_TTL_MINUTES },
        })
      : deps.services.brevo.sendEmail({ to, subject: plain.subject, htmlContent: plain.html }));
    log.info('dealer code sent', { dealer_id: dealer.id });
  } catch (error) {
    // a code nobody received only uses up the dealer's attempts: forget it, and they ask again
    await dealerCodes.discard(deps.db, codeId);
    log.warn('dealer code not delivered', { dealer_id: dealer.id, error: error instanceof Error ? error.message : String(error) });
  }
}

const invalidCode = () => new ApiError(401, 'invalid_code', 'The code is wrong, has expired or was already used; request a new one');

/** Checks the code; the dealer when it is good, 401 `invalid_code` for any miss (no dealer, wrong, expired, used). */
export async function verifyDealerCode(deps: Pick<Deps, 'db'>, input: { email: string; code: string }): Promise<DealerAccount> {
  const dealer = await findByEmail(deps, input.email);
  if (!dealer) throw invalidCode();
  const result = await deps.db.transaction((tx) => dealerCodes.check(tx, dealer.id, input.code));
  if (result !== 'valid') throw invalidCode();
  return dealer;
}

/** The signed-in dealer as they are now; a dealer removed since the sign-in → 401. */
export async function dealerAccount(deps: Pick<Deps, 'db'>, dealerId: string): Promise<DealerAccount> {
  const dealer = await findDealerAccount(deps.db, dealerId);
  if (!dealer) throw new ApiError(401, 'unauthorized', 'This dealer account no longer exists; sign in again');
  return dealer;
}
