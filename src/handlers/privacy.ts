import { validationFailed } from '../errors.js';
import { normaliseEmail, toE164 } from '../domain/normalise.js';
import { dealerOf as dealerIdentity } from '../domain/access.js';
import { principalOf } from '../api/principal.js';
import { sellerCarId } from '../api/seller-auth.js';
import type { Handler } from '../api/types.js';
import { erasePersonalData, exportPersonalData, type Requester } from '../usecases/privacy.js';
import { auditLogPage } from '../usecases/audit.js';
import { changeNewsletterConsent } from '../usecases/consent.js';

/** A person's data on request and erased on request (src/usecases/privacy.ts), and the audit log. */

function dealerOf(req: Parameters<Handler<'dealerDataExport'>>[0]['req']): { kind: 'dealer'; email: string } {
  // The dealerSession guard lets only a registered dealer's token through, in either AUTH_MODE.
  const dealer = dealerIdentity(principalOf(req));
  if (!dealer) throw new Error('dealerSession guard missing');
  return { kind: 'dealer', email: dealer.email };
}

const actorOf = (req: Parameters<Handler<'listAuditLog'>>[0]['req']) => {
  const p = principalOf(req);
  return p.kind === 'admin' ? (p.actor ?? 'admin') : 'unknown';
};

/** Exactly one of e-mail and phone, normalised as stored. */
function personOf(input: { email?: string; phone?: string }, where: 'query' | 'body'): Requester {
  const email = input.email?.trim() ? normaliseEmail(input.email) : undefined;
  const phoneGiven = input.phone?.trim() ? input.phone : undefined;
  if ((email === undefined) === (phoneGiven === undefined)) {
    throw validationFailed([{ path: where, message: `${where} needs exactly one of email and phone` }]);
  }
  if (phoneGiven !== undefined) {
    const phone = toE164(phoneGiven);
    if (!phone) throw validationFailed([{ path: `${where}.phone`, message: `${where}.phone is not a valid phone number` }]);
    return { kind: 'admin', phone };
  }
  return { kind: 'admin', email };
}

const sellerDataExport: Handler<'sellerDataExport'> = async ({ req, deps }) => ({
  status: 200,
  body: await exportPersonalData(deps, { kind: 'seller', carId: sellerCarId(req) }),
});

const sellerErasure: Handler<'sellerErasure'> = async ({ req, deps, log }) => {
  const result = await erasePersonalData(deps, { kind: 'seller', carId: sellerCarId(req) });
  log.info('seller erased', { subjects: result.subjects, rows: result.rows });
  return { status: 200, body: result };
};

const dealerDataExport: Handler<'dealerDataExport'> = async ({ req, deps }) => ({
  status: 200,
  body: await exportPersonalData(deps, dealerOf(req)),
});

const dealerErasure: Handler<'dealerErasure'> = async ({ req, deps, log }) => {
  const result = await erasePersonalData(deps, dealerOf(req));
  log.info('dealer erased', { subjects: result.subjects, rows: result.rows });
  return { status: 200, body: result };
};

const adminPersonDataExport: Handler<'adminPersonDataExport'> = async ({ req, query, deps }) => ({
  status: 200,
  body: await exportPersonalData(deps, personOf(query, 'query'), actorOf(req)),
});

const adminPersonErasure: Handler<'adminPersonErasure'> = async ({ req, body, deps, log }) => {
  const result = await erasePersonalData(deps, personOf(body, 'body'), actorOf(req));
  log.info('person erased by admin', { subjects: result.subjects, rows: result.rows });
  return { status: 200, body: result };
};

const sellerConsent: Handler<'sellerConsent'> = async ({ req, body, deps }) => ({
  status: 200,
  body: { success: true, ...(await changeNewsletterConsent(deps, { carId: sellerCarId(req) }, body.newsletter)) },
});

const dealerConsent: Handler<'dealerConsent'> = async ({ req, body, deps }) => {
  const dealer = dealerOf(req);
  return { status: 200, body: { success: true, ...(await changeNewsletterConsent(deps, { dealerEmail: dealer.email }, body.newsletter)) } };
};

const listAuditLog: Handler<'listAuditLog'> = async ({ query, deps }) => ({
  status: 200,
  body: { success: true, ...(await auditLogPage(deps, { cursor: query.cursor ?? null, action: query.action, limit: query.limit ?? 100 })) },
});

export const privacyHandlers = {
  sellerDataExport,
  sellerErasure,
  dealerDataExport,
  dealerErasure,
  adminPersonDataExport,
  adminPersonErasure,
  listAuditLog,
  sellerConsent,
  dealerConsent,
};
