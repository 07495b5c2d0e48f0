import { ApiError } from '../errors.js';
import { dealerOf, seesDeclarations, seesSellerData, type Principal } from '../domain/access.js';
import { standingOf } from '../domain/auction.js';
import { pageOf } from '../domain/keyset.js';
import { carsBidOn, carsBoughtBy } from '../db/dealer-standing.js';
import { mediaBase } from '../storage/index.js';
import type { Deps } from '../deps.js';

type StandingDeps = Pick<Deps, 'db' | 'storage'>;
type Page = { after: string | null; limit: number };

function dealerEmail(viewer: Principal): string {
  const dealer = dealerOf(viewer);
  if (!dealer) throw new ApiError(401, 'unauthorized', 'A dealer token is required (Authorization: Bearer <token>)');
  return dealer.email;
}

const viewOf = (viewer: Principal) => ({ seller: seesSellerData(viewer), declarations: seesDeclarations(viewer) });

/** One entry per car the caller bid on, with their standing, the most recently bid on first. */
export async function myBids(deps: StandingDeps, page: Page, viewer: Principal) {
  const rows = await carsBidOn(deps.db, dealerEmail(viewer), page, viewOf(viewer), mediaBase(deps));
  const { items, next_cursor } = pageOf(rows, page.limit);
  return {
    next_cursor,
    bids: items.map(({ last_bid_at, won, ...car }) => ({
      car,
      standing: standingOf(car.status, car.my_bid?.leading ?? false, won),
      last_bid_at,
    })),
  };
}

/** The cars sold to the caller, the latest sale first. */
export async function myPurchases(deps: StandingDeps, page: Page, viewer: Principal) {
  const rows = await carsBoughtBy(deps.db, dealerEmail(viewer), page, viewOf(viewer), mediaBase(deps));
  const { items, next_cursor } = pageOf(rows, page.limit);
  return { next_cursor, purchases: items.map(({ price, sold_at, ...car }) => ({ car, price, sold_at })) };
}
