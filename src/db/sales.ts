import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { CAR_STATUSES } from '../domain/lifecycle.js';
import { SALE_STATES, type RecordedStep, type SaleAction, type SaleState } from '../domain/sale.js';

/**
 * The SQL of the sale after the hammer (migration 014); the story is src/usecases/sale.ts,
 * which runs every change here under the car's row lock.
 */

const stepEntry = z.object({
  step: z.enum(['contract_signed', 'buyer_paid', 'picked_up', 'ownership_transferred', 'seller_paid', 'completed']),
  recorded_by: z.enum(['admin', 'system']),
  note: z.string().nullable(),
  at: z.string(),
});
export type StepEntry = z.infer<typeof stepEntry>;

export const saleRow = z.object({
  id: z.string().uuid(),
  car_id: z.string().uuid(),
  bid_id: z.string().uuid().nullable(),
  dealer_email: z.string(),
  dealer_name: z.string(),
  /** The buying dealer's company as their dealer record names it (else the bid's name). */
  buyer_company: z.string(),
  price: z.number().int(),
  state: z.enum(SALE_STATES),
  sold_by: z.enum(['admin', 'seller']),
  payment_due_at: z.string(),
  pickup_due_at: z.string().nullable(),
  payment_overdue_at: z.string().nullable(),
  pickup_overdue_at: z.string().nullable(),
  pickup_at: z.string().nullable(),
  pickup_note: z.string().nullable(),
  pickup_state: z.enum(['proposed', 'confirmed', 'declined']).nullable(),
  pickup_answer: z.string().nullable(),
  seller_kennitala: z.string().nullable(),
  seller_address: z.string().nullable(),
  seller_bank: z.string().nullable(),
  details_at: z.string().nullable(),
  vin: z.string().nullable(),
  cancelled_at: z.string().nullable(),
  cancel_reason: z.string().nullable(),
  completed_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  car_plate: z.string(),
  car_make: z.string(),
  car_model: z.string(),
  car_status: z.enum(CAR_STATUSES),
  steps: z.array(stepEntry),
});
export type SaleRow = z.infer<typeof saleRow>;

const selectSales = sql.fragment`
  SELECT s.id, s.car_id, s.bid_id, s.dealer_email, s.dealer_name,
         coalesce(d.company_name, d.dealer_name, s.dealer_name) AS buyer_company,
         s.price, s.state, s.sold_by, s.payment_due_at, s.pickup_due_at, s.payment_overdue_at, s.pickup_overdue_at,
         s.pickup_at, s.pickup_note, s.pickup_state, s.pickup_answer, s.seller_kennitala, s.seller_address, s.seller_bank,
         s.details_at, s.vin, s.cancelled_at, s.cancel_reason, s.completed_at, s.created_at, s.updated_at,
         c.car_plate, c.car_make, c.car_model, c.status AS car_status,
         coalesce((SELECT jsonb_agg(jsonb_build_object('step', t.step, 'recorded_by', t.recorded_by, 'note', t.note,
                                                       'at', to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                                    ORDER BY t.at, t.step = 'completed', t.step)
                   FROM sale_steps t WHERE t.sale_id = s.id), '[]'::jsonb) AS steps
  FROM sales s
  JOIN "Bílar" c ON c.id = s.car_id
  LEFT JOIN dealers d ON d.email = s.dealer_email`;

/** The car's sale that is not cancelled (at most one, migration 014), or null. */
export function findLiveSale(q: CommonQueryMethods, carId: string): Promise<SaleRow | null> {
  return q.maybeOne(sql.type(saleRow)`${selectSales} WHERE s.car_id = ${carId} AND s.state <> 'cancelled'`);
}

/** The car's newest sale, a cancelled one included (what the seller's page shows after a back-out, until a new sale). */
export function findLatestSale(q: CommonQueryMethods, carId: string): Promise<SaleRow | null> {
  return q.maybeOne(sql.type(saleRow)`${selectSales} WHERE s.car_id = ${carId} ORDER BY s.created_at DESC, s.id DESC LIMIT 1`);
}

const idRow = z.object({ id: z.string().uuid() });

/** Locks the car's live sale row (the caller already holds the car's row lock); null when there is none. */
export async function lockLiveSale(tx: CommonQueryMethods, carId: string): Promise<SaleRow | null> {
  const id = await tx.maybeOneFirst(sql.type(idRow)`SELECT id FROM sales WHERE car_id = ${carId} AND state <> 'cancelled' FOR UPDATE`);
  return id ? tx.one(sql.type(saleRow)`${selectSales} WHERE s.id = ${id}`) : null;
}

export type NewSale = {
  carId: string;
  bidId: string;
  dealerEmail: string;
  dealerName: string;
  price: number;
  soldBy: 'admin' | 'seller';
  paymentDays: number;
};

export function insertSale(tx: CommonQueryMethods, sale: NewSale): Promise<string> {
  return tx.oneFirst(sql.type(idRow)`
    INSERT INTO sales (car_id, bid_id, dealer_email, dealer_name, price, sold_by, payment_due_at)
    VALUES (${sale.carId}, ${sale.bidId}, ${sale.dealerEmail}, ${sale.dealerName}, ${sale.price}, ${sale.soldBy},
            now() + make_interval(days => ${sale.paymentDays}))
    RETURNING id`);
}

export async function insertStep(
  tx: CommonQueryMethods,
  saleId: string,
  step: RecordedStep,
  by: 'admin' | 'system',
  note: string | null,
): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    INSERT INTO sale_steps (sale_id, step, recorded_by, note) VALUES (${saleId}, ${step}, ${by}, ${note})`);
}

/** After a step: the state it leaves the sale in, and the pick-up deadline once the buyer has paid. */
export async function updateAfterStep(
  tx: CommonQueryMethods,
  saleId: string,
  change: { state: SaleState; startPickupClock: { days: number } | null },
): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    UPDATE sales SET state = ${change.state}, updated_at = now(),
           completed_at = CASE WHEN ${change.state} = 'completed' THEN now() END,
           pickup_due_at = CASE WHEN ${change.startPickupClock !== null} AND pickup_due_at IS NULL
                                THEN now() + make_interval(days => ${change.startPickupClock?.days ?? 0}) ELSE pickup_due_at END
    WHERE id = ${saleId}`);
}

export async function cancelSale(tx: CommonQueryMethods, saleId: string, reason: string): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    UPDATE sales SET state = 'cancelled', cancelled_at = now(), cancel_reason = ${reason}, updated_at = now() WHERE id = ${saleId}`);
}

/** The backed-out buyer's bids on the car stop counting (ranking, highest bid). */
export async function setAsideBids(tx: CommonQueryMethods, carId: string, dealerEmail: string): Promise<number> {
  const result = await tx.query(sql.type(z.object({}))`
    UPDATE "uppboð" SET set_aside = true, updated_at = now() WHERE car_id = ${carId} AND dealer_email = ${dealerEmail} AND NOT set_aside`);
  return result.rowCount;
}

export async function storeSellerDetails(
  tx: CommonQueryMethods,
  saleId: string,
  sealed: { kennitala: string; address: string; bank: string; vin: string | null },
): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    UPDATE sales SET seller_kennitala = ${sealed.kennitala}, seller_address = ${sealed.address}, seller_bank = ${sealed.bank},
           vin = coalesce(${sealed.vin}, vin),
           details_at = now(), updated_at = now()
    WHERE id = ${saleId}`);
}

export async function proposePickup(tx: CommonQueryMethods, saleId: string, at: string, note: string | null): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    UPDATE sales SET pickup_at = ${at}, pickup_note = ${note}, pickup_state = 'proposed', pickup_answer = NULL, updated_at = now()
    WHERE id = ${saleId}`);
}

export async function answerPickup(tx: CommonQueryMethods, saleId: string, confirmed: boolean, note: string | null): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    UPDATE sales SET pickup_state = ${confirmed ? 'confirmed' : 'declined'}, pickup_answer = ${note}, updated_at = now()
    WHERE id = ${saleId}`);
}

const nowRow = z.object({ now: z.string() });
/** The database's clock (deadlines are all on it, so a test can move them there). */
export const databaseNow = (q: CommonQueryMethods) => q.oneFirst(sql.type(nowRow)`SELECT now()::text AS now`);

/** Appends a `sale` event to the car's log, with the standing a stream shows (migration 008's function): no personal data. */
export async function appendSaleEvent(
  tx: CommonQueryMethods,
  carId: string,
  data: { action: SaleAction; step: string | null; sale_state: SaleState },
): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    INSERT INTO car_events (car_id, kind, data)
    SELECT c.id, 'sale', car_event_standing(c.id, NULL, c.status, c.auction_ends_at) || ${sql.jsonb(data)}
    FROM "Bílar" c WHERE c.id = ${carId}`);
}

/** Newest first, keyset after the sale `after`; one row more than `limit`. */
export function listSales(
  q: CommonQueryMethods,
  filter: { state?: SaleState; after: string | null; limit: number },
): Promise<readonly SaleRow[]> {
  const conditions = [
    filter.state ? sql.fragment`s.state = ${filter.state}` : null,
    filter.after ? sql.fragment`(s.created_at, s.id) < (SELECT created_at, id FROM sales WHERE id = ${filter.after})` : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  return q.any(sql.type(saleRow)`${selectSales} ${where} ORDER BY s.created_at DESC, s.id DESC LIMIT ${filter.limit + 1}`);
}

const dueRow = z.object({ id: z.string().uuid(), car_id: z.string().uuid(), payment: z.boolean(), pickup: z.boolean() });
export type DueSale = z.infer<typeof dueRow>;

/**
 * Open sales past a deadline not yet marked, locked with the car's row (SKIP LOCKED: several
 * instances share the work, and a sale whose car is being changed waits for the next round).
 */
export function lockOverdueSales(tx: CommonQueryMethods, limit: number): Promise<readonly DueSale[]> {
  return tx.any(sql.type(dueRow)`
    SELECT s.id, s.car_id,
           coalesce(s.payment_overdue_at IS NULL AND s.payment_due_at <= now()
             AND NOT EXISTS (SELECT 1 FROM sale_steps t WHERE t.sale_id = s.id AND t.step = 'buyer_paid'), false) AS payment,
           coalesce(s.pickup_overdue_at IS NULL AND s.pickup_due_at <= now()
             AND NOT EXISTS (SELECT 1 FROM sale_steps t WHERE t.sale_id = s.id AND t.step = 'picked_up'), false) AS pickup
    FROM sales s JOIN "Bílar" c ON c.id = s.car_id
    WHERE s.state IN ('open', 'overdue')
      AND ((s.payment_overdue_at IS NULL AND s.payment_due_at <= now()
             AND NOT EXISTS (SELECT 1 FROM sale_steps t WHERE t.sale_id = s.id AND t.step = 'buyer_paid'))
        OR (s.pickup_overdue_at IS NULL AND s.pickup_due_at <= now()
             AND NOT EXISTS (SELECT 1 FROM sale_steps t WHERE t.sale_id = s.id AND t.step = 'picked_up')))
    ORDER BY s.payment_due_at
    LIMIT ${limit}
    FOR UPDATE OF s, c SKIP LOCKED`);
}

export async function markOverdue(tx: CommonQueryMethods, saleId: string, which: { payment: boolean; pickup: boolean }): Promise<void> {
  await tx.query(sql.type(z.object({}))`
    UPDATE sales SET state = 'overdue', updated_at = now(),
           payment_overdue_at = CASE WHEN ${which.payment} THEN now() ELSE payment_overdue_at END,
           pickup_overdue_at = CASE WHEN ${which.pickup} THEN now() ELSE pickup_overdue_at END
    WHERE id = ${saleId}`);
}

const partyRow = z.object({
  seller_name: z.string(),
  seller_email: z.string().nullable(),
  seller_phone: z.string().nullable(),
  postal_code: z.string().nullable(),
  year: z.number().int(),
  mileage: z.number().int(),
  dealer_name: z.string().nullable(),
  dealer_organization_number: z.string().nullable(),
  dealer_street_address: z.string().nullable(),
  dealer_postal_code: z.string().nullable(),
  dealer_city: z.string().nullable(),
  overall_grade: z.number().int().nullable(),
  inspector: z.string().nullable(),
});
export type SaleParties = z.infer<typeof partyRow>;

/** The seller as the car names them and the buyer as their dealer record does: for the buyer's page and the contract. */
export function saleParties(q: CommonQueryMethods, carId: string, dealerEmail: string): Promise<SaleParties> {
  return q.one(sql.type(partyRow)`
    SELECT c.seller_name, c.email AS seller_email, c.phone AS seller_phone, c.postal_code, c.year, c.mileage,
           coalesce(d.company_name, d.dealer_name) AS dealer_name, d.organization_number AS dealer_organization_number,
           d.street_address AS dealer_street_address, d.postal_code AS dealer_postal_code, d.city AS dealer_city,
           i.overall_grade, i.inspector
    FROM "Bílar" c
    LEFT JOIN dealers d ON d.email = ${dealerEmail}
    LEFT JOIN car_inspections i ON i.car_id = c.id
    WHERE c.id = ${carId}`);
}

const countsRow = z.object({ dealer_email: z.string(), purchases: z.number().int(), cancellations: z.number().int() });

/** Per dealer e-mail: sales to them that stand, and how many they backed out of. */
export function dealerSaleCounts(q: CommonQueryMethods, emails: readonly string[]) {
  return q.any(sql.type(countsRow)`
    SELECT dealer_email, count(*) FILTER (WHERE state <> 'cancelled')::int AS purchases, count(*) FILTER (WHERE state = 'cancelled')::int AS cancellations
    FROM sales WHERE dealer_email = ANY(${sql.array(emails, 'text')})
    GROUP BY dealer_email`);
}

const wonBid = z.object({ dealer_email: z.string(), dealer_name: z.string(), bid_amount: z.number().int() });

/** The winning bid's dealer and amount. */
export function winningBid(q: CommonQueryMethods, bidId: string) {
  return q.one(sql.type(wonBid)`SELECT dealer_email, dealer_name, bid_amount FROM "uppboð" WHERE id = ${bidId}`);
}
