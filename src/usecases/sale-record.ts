import type { CommonQueryMethods } from 'slonik';
import { insertSale, winningBid } from '../db/sales.js';
import type { LifecycleSettings } from '../db/car-status.js';

/**
 * Opens the sale of a car that has just become `sold`: called by `changeStatus`
 * (src/usecases/lifecycle.ts) in its transaction, under the car's row lock, so a car is never
 * sold without its sale. The rest of the sale's story is src/usecases/sale.ts.
 */
export async function openSale(
  tx: CommonQueryMethods,
  sale: { carId: string; bidId: string; soldBy: 'admin' | 'seller'; settings: Pick<LifecycleSettings, 'SALE_PAYMENT_DAYS'> },
): Promise<string> {
  const bid = await winningBid(tx, sale.bidId);
  return insertSale(tx, {
    carId: sale.carId,
    bidId: sale.bidId,
    dealerEmail: bid.dealer_email,
    dealerName: bid.dealer_name,
    price: bid.bid_amount,
    soldBy: sale.soldBy,
    paymentDays: sale.settings.SALE_PAYMENT_DAYS,
  });
}
