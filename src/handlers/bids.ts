import { validationFailed } from '../errors.js';
import { normaliseEmail } from '../domain/normalise.js';
import { listCarBids as carBids, listDealerBids as dealerBids, placeBid } from '../usecases/bidding.js';
import type { Handler } from '../api/types.js';
import { principalOf } from '../api/principal.js';

/** A bid (src/usecases/bidding.ts tells what it does). */
const createBid: Handler<'createBid'> = async ({ body, deps, log }) => {
  const dealerEmail = normaliseEmail(body.dealer_email, 'body.dealer_email');
  const maxAmount = body.max_amount ?? null;
  if (maxAmount !== null && maxAmount < body.bid_amount) {
    throw validationFailed([{ path: 'body.max_amount', message: 'body.max_amount must be at least body.bid_amount' }]);
  }
  const outcome = await placeBid(deps, {
    carId: body.car_id,
    dealerEmail,
    dealerName: body.dealer_name,
    amount: body.bid_amount,
    max: maxAmount,
  });
  log.info('bid accepted', {
    bid_id: outcome.bid.id,
    car_id: outcome.bid.car_id,
    amount: outcome.bid.bid_amount,
    leading: outcome.leading,
    soft_close: outcome.extended,
  });
  const { extended: _extended, ...result } = outcome;
  return {
    status: 201,
    body: {
      success: true,
      message: outcome.leading ? 'Bid placed successfully' : 'Bid placed, but another dealer’s maximum bid is higher: you have been outbid',
      bid_id: outcome.bid.id,
      ...result,
    },
  };
};

const listCarBids: Handler<'listCarBids'> = async ({ params, req, deps }) => {
  const bids = await carBids(deps, params.car_id, principalOf(req));
  return { status: 200, body: { success: true, bids, count: bids.length } };
};

const listDealerBids: Handler<'listDealerBids'> = async ({ params, deps }) => {
  const bids = await dealerBids(deps, normaliseEmail(params.dealer_email, 'path.dealer_email'));
  return { status: 200, body: { success: true, bids: [...bids], count: bids.length } };
};

export const bidHandlers = { createBid, listCarBids, listDealerBids };
