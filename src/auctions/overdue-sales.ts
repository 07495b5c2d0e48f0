import type { Db } from '../db/pool.js';
import type { Config } from '../config.js';
import { markOverdueSales } from '../usecases/sale.js';

/**
 * The overdue-sales job: sales whose buyer has not paid within SALE_PAYMENT_DAYS, or not
 * picked the car up within SALE_PICKUP_DAYS of paying, are marked `overdue` and the buyer
 * and the back office e-mailed — once per deadline. The work is the use case's
 * (src/usecases/sale.ts `markOverdueSales`): it locks the rows it marks with SKIP LOCKED,
 * so several instances (or a job run twice) never mark or e-mail a sale twice.
 */
export async function sweepOverdueSales(db: Db, config: Config, batch = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const marked = await markOverdueSales({ db, config }, batch);
    total += marked;
    if (marked < batch) return total;
  }
}
