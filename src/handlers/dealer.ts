import { ApiError, notConfigured } from '../errors.js';
import { dealerTokens } from '../api/session-tokens.js';
import { principalOf } from '../api/principal.js';
import { dealerOf } from '../domain/access.js';
import type { Handler } from '../api/types.js';
import type { Request } from 'express';
import { myBids, myPurchases } from '../usecases/dealer-standing.js';
import { decodeCursor } from '../domain/keyset.js';
import { dealerAccount, issueDealerCode, verifyDealerCode } from '../usecases/dealer-session.js';
import { removeSavedSearch, savedSearches, saveSearch } from '../usecases/saved-searches.js';

/** The dealer's own side (tag `dealer`): password-less sign-in (src/usecases/dealer-session.ts) and who they are. */

const LOGIN_ANSWER = 'If a dealer is registered with this e-mail, a sign-in code is on its way';

const account = (a: { id: string; email: string; company_name: string; status: 'pending' | 'approved' | 'suspended' }) => ({
  id: a.id,
  email: a.email,
  company_name: a.company_name,
  status: a.status,
});

/** The dealer the guard found (`dealerSession`); their id from the database when a Supabase token named them by e-mail. */
function signedInDealerId(req: Request): string {
  const id = dealerOf(principalOf(req))?.id;
  if (!id) throw new ApiError(401, 'unauthorized', 'A dealer token is required (Authorization: Bearer <token>)');
  return id;
}

/** Answers 202 before looking anything up, as the seller's login does: a hit and a miss take the same time. */
const dealerLogin: Handler<'dealerLogin'> = ({ req, body, deps, log }) => {
  if (deps.services.brevo.mode === 'disabled') throw notConfigured('E-mail (Brevo)');
  const work = () =>
    void issueDealerCode(deps, log, body.email).catch((error: unknown) =>
      log.warn('dealer code not issued', { error: error instanceof Error ? error.message : String(error) }),
    );
  const res = req.res;
  if (res) res.once('close', work);
  else setImmediate(work);
  return { status: 202, body: { success: true, message: LOGIN_ANSWER } };
};

const dealerVerify: Handler<'dealerVerify'> = async ({ body, deps, log }) => {
  const dealer = await verifyDealerCode(deps, { email: body.email, code: body.code });
  const session = await dealerTokens(deps.config, deps.logger).issue(dealer.id);
  log.info('dealer signed in', { dealer_id: dealer.id });
  return { status: 200, body: { success: true, token: session.token, expires_at: session.expires_at, dealer: account(dealer) } };
};

const getDealerMe: Handler<'getDealerMe'> = async ({ req, deps }) => ({
  status: 200,
  body: { success: true, dealer: account(await dealerAccount(deps, signedInDealerId(req))) },
});

const listMyBids: Handler<'listMyBids'> = async ({ req, query, deps }) => {
  const page = await myBids(deps, { after: query.cursor ? decodeCursor(query.cursor) : null, limit: query.limit ?? 50 }, principalOf(req));
  return { status: 200, body: { success: true, bids: page.bids, count: page.bids.length, next_cursor: page.next_cursor } };
};

const listMyPurchases: Handler<'listMyPurchases'> = async ({ req, query, deps }) => {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const page = await myPurchases(deps, { after, limit: query.limit ?? 50 }, principalOf(req));
  return { status: 200, body: { success: true, purchases: page.purchases, count: page.purchases.length, next_cursor: page.next_cursor } };
};

const listSavedSearches: Handler<'listSavedSearches'> = async ({ req, deps }) => {
  const searches = await savedSearches(deps, signedInDealerId(req));
  return { status: 200, body: { success: true, searches: [...searches], count: searches.length } };
};

const createSavedSearch: Handler<'createSavedSearch'> = async ({ req, body, deps }) => {
  const search = await saveSearch(deps, signedInDealerId(req), {
    name: body.name,
    filters: body.filters,
    alert: body.alert,
  });
  return { status: 201, body: { success: true, search } };
};

const deleteSavedSearch: Handler<'deleteSavedSearch'> = async ({ req, params, deps }) => {
  await removeSavedSearch(deps, signedInDealerId(req), params.search_id);
  return { status: 204, body: undefined };
};

export const dealerSessionHandlers = {
  dealerLogin,
  dealerVerify,
  getDealerMe,
  listMyBids,
  listMyPurchases,
  listSavedSearches,
  createSavedSearch,
  deleteSavedSearch,
};
