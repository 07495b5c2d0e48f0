import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { ERASED, PSEUDONYM_DOMAIN, type Finder, type PersonalColumn, type TableEntry, type Use } from '../domain/personal-data.js';
import { noRows } from './no-rows.js';

/**
 * The queries of export and erasure, built from the register (src/domain/personal-data.ts):
 * table and column names come from the register only, as identifiers, and every value is
 * a parameter.
 */

/** Everything a person is known by: what the finders of the register match. */
export type Person = {
  carIds: string[];
  dealerIds: string[];
  /** E-mails the person bids and keeps favourites under as a dealer. */
  dealerEmails: string[];
  emails: string[];
  phones: string[];
  /** Full names, for the `mentions` finders (caches and free text). */
  names: string[];
  /** The dealer's pseudonym on bids, when the person is a dealer being erased. */
  pseudonym?: string;
};

const uuidArray = (ids: readonly string[]) => sql.array(ids, 'uuid');
const textArray = (values: readonly string[]) => sql.array(values, 'text');

/** The rows of `find` that belong to `person`; null when the person has nothing it could match. */
export function findCondition(find: Finder, person: Person): FragmentSqlToken | null {
  const col = sql.identifier([find.column]);
  switch (find.by) {
    case 'car':
      return person.carIds.length ? sql.fragment`${col} = ANY(${uuidArray(person.carIds)})` : null;
    case 'dealer':
      return person.dealerIds.length ? sql.fragment`${col} = ANY(${uuidArray(person.dealerIds)})` : null;
    case 'dealer_email':
      return person.dealerEmails.length ? sql.fragment`${col} = ANY(${textArray(person.dealerEmails)})` : null;
    case 'email':
      return person.emails.length ? sql.fragment`${col} = ANY(${textArray(person.emails)})` : null;
    case 'phone':
      return person.phones.length ? sql.fragment`${col} = ANY(${textArray(person.phones)})` : null;
    case 'mentions': {
      const needles = [...person.emails, ...person.phones, ...person.names].filter((v) => v.length >= 3).map((v) => v.toLowerCase());
      if (!needles.length) return null;
      return sql.fragment`EXISTS (SELECT 1 FROM unnest(${textArray(needles)}) AS needle WHERE strpos(lower(${col}::text), needle) > 0)`;
    }
  }
}

const jsonRow = z.object({ row: z.record(z.unknown()) });

/** The person's rows of one use, as JSON objects (every column, or the use's `exportColumns`). */
export async function exportRows(q: CommonQueryMethods, entry: TableEntry, use: Use, person: Person): Promise<Record<string, unknown>[]> {
  const where = findCondition(use.find, person);
  if (!where) return [];
  const table = sql.identifier([entry.table]);
  const picked = use.exportColumns
    ? sql.fragment`jsonb_build_object(${sql.join(
        use.exportColumns.flatMap((c) => [sql.fragment`${c}::text`, sql.identifier(['t', c])]),
        sql.fragment`, `,
      )})`
    : sql.fragment`to_jsonb(t)`;
  const rows = await q.any(sql.type(jsonRow)`SELECT ${picked} AS row FROM ${table} AS t WHERE ${where} ORDER BY 1 LIMIT 10000`);
  return rows.map((r) => r.row);
}

const objectOwner = z.object({ id: z.string() });

/**
 * The ids of the person's rows of one use, for a table whose rows name stored objects: read
 * before the rows go, under the locks of the erasure's transaction (the cars', which an
 * upload takes too), so no row can join them in between.
 */
export function objectOwnerIds(q: CommonQueryMethods, entry: TableEntry, use: Use, person: Person): Promise<readonly string[]> {
  const where = findCondition(use.find, person);
  if (!where) return Promise.resolve([]);
  return q.anyFirst(sql.type(objectOwner)`SELECT id::text AS id FROM ${sql.identifier([entry.table])} WHERE ${where}`);
}

const countRow = z.object({ n: z.number().int() });

function erasedValue(spec: PersonalColumn, person: Person): FragmentSqlToken | null {
  switch (spec.erase.kind) {
    case 'null':
      return sql.fragment`NULL`;
    case 'token':
      return sql.fragment`${ERASED}`;
    case 'pseudonym': {
      const pseudonym = person.pseudonym;
      if (!pseudonym) return null;
      return spec.erase.form === 'email' ? sql.fragment`${`${pseudonym}@${PSEUDONYM_DOMAIN}`}` : sql.fragment`${pseudonym}`;
    }
    case 'keep':
      return null;
  }
}

/**
 * Erases the person's rows of one use: deletes them, or sets each personal column as the
 * register says (a column `keptUnderHold` stays while its row is under legal hold). Returns
 * how many rows it touched.
 */
export async function eraseRows(q: CommonQueryMethods, entry: TableEntry, use: Use, person: Person): Promise<number> {
  if (use.erase === 'keep') return 0;
  const where = findCondition(use.find, person);
  if (!where) return 0;
  const table = sql.identifier([entry.table]);
  if (use.erase === 'delete') {
    return q.oneFirst(
      sql.type(countRow)`WITH gone AS (DELETE FROM ${table} WHERE ${where} RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    );
  }
  const held = entry.heldWhile ? sql.fragment`${sql.identifier([entry.heldWhile])} > now()` : null;
  const sets = Object.entries(entry.columns).flatMap(([column, spec]) => {
    const value = erasedValue(spec, person);
    if (!value) return [];
    const col = sql.identifier([column]);
    const guarded = spec.keptUnderHold && held ? sql.fragment`CASE WHEN ${held} THEN ${col} ELSE ${value} END` : value;
    return [sql.fragment`${col} = ${guarded}`];
  });
  if (!sets.length) return 0;
  return q.oneFirst(sql.type(countRow)`
    WITH changed AS (UPDATE ${table} SET ${sql.join(sets, sql.fragment`, `)} WHERE ${where} RETURNING 1)
    SELECT count(*)::int AS n FROM changed`);
}

// --- who a person is ----------------------------------------------------------------

const sellerCar = z.object({
  id: z.string().uuid(),
  status: z.string(),
  /** A sale carried through after the hammer, not yet completed or cancelled. */
  open_sale: z.boolean(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  seller_name: z.string(),
});
export type SellerCar = z.infer<typeof sellerCar>;

/** The cars of a seller, by the e-mail or the phone on them, locked for the erasure's transaction when `lock`. */
export function sellerCarsOf(q: CommonQueryMethods, by: { emails: string[]; phones: string[] }, lock = false) {
  return q.any(sql.type(sellerCar)`
    SELECT c.id, c.status, c.email, c.phone, c.seller_name,
           EXISTS (SELECT 1 FROM sales s WHERE s.car_id = c.id AND s.state IN ('open', 'overdue')) AS open_sale
    FROM "Bílar" c
    WHERE c.erased_at IS NULL AND (c.email = ANY(${textArray(by.emails)}) OR c.phone = ANY(${textArray(by.phones)}))
    ORDER BY c.created_at, c.id
    ${lock ? sql.fragment`FOR UPDATE OF c` : sql.fragment``}`);
}

/** The e-mail of the car a seller token is for (null once erased). */
export function carEmail(q: CommonQueryMethods, carId: string) {
  return q.maybeOneFirst(sql.type(z.object({ email: z.string().nullable() }))`SELECT email FROM "Bílar" WHERE id = ${carId}`);
}

const dealerPerson = z.object({
  id: z.string().uuid(),
  email: z.string().nullable(),
  mobile_number: z.string(),
  first_name: z.string(),
  surname: z.string(),
});
export type DealerPerson = z.infer<typeof dealerPerson>;

/** The dealer accounts with this e-mail or mobile number (not yet erased), locked when `lock`. */
export function dealersOf(q: CommonQueryMethods, by: { emails: string[]; phones: string[] }, lock = false) {
  return q.any(sql.type(dealerPerson)`
    SELECT id, email, mobile_number, first_name, surname FROM dealers
    WHERE erased_at IS NULL AND (email = ANY(${textArray(by.emails)}) OR mobile_number = ANY(${textArray(by.phones)}))
    ORDER BY created_at, id
    ${lock ? sql.fragment`FOR UPDATE` : sql.fragment``}`);
}

/** How many running auctions (active, or closed awaiting the seller) the dealer's e-mail leads. */
export function leadingRunning(q: CommonQueryMethods, emails: string[]) {
  return q.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM "Bílar" c
    WHERE c.status IN ('active', 'closed')
      AND (SELECT b.dealer_email FROM "uppboð" b WHERE b.car_id = c.id ORDER BY b.bid_amount DESC, b.created_at, b.seq LIMIT 1)
          = ANY(${textArray(emails)})`);
}

/** A sold car's contract data stays SALE_RETENTION_YEARS from the sale: the hold is set before the rest is erased. */
export function holdSoldCars(q: CommonQueryMethods, carIds: string[], years: number) {
  return q.query(sql.type(noRows)`
    UPDATE "Bílar" SET legal_hold_until = coalesce(closed_at, updated_at) + make_interval(years => ${years})
    WHERE id = ANY(${uuidArray(carIds)}) AND status = 'sold' AND legal_hold_until IS NULL`);
}

/** Marks the cars erased (their seller sessions end with the e-mail, see migration 009). */
export function markCarsErased(q: CommonQueryMethods, carIds: string[]) {
  return q.query(sql.type(noRows)`UPDATE "Bílar" SET erased_at = coalesce(erased_at, now()) WHERE id = ANY(${uuidArray(carIds)})`);
}

/** Closes the dealer accounts: suspended, marked erased, with the pseudonym their bids now carry. */
export function closeDealerAccounts(q: CommonQueryMethods, dealerIds: string[], pseudonym: string) {
  return q.query(sql.type(noRows)`
    UPDATE dealers SET erased_at = now(), status = 'suspended', status_changed_at = now(),
                       pseudonym = coalesce(pseudonym, ${pseudonym})
    WHERE id = ANY(${uuidArray(dealerIds)})`);
}

const idRow = z.object({ id: z.string().uuid() });

/**
 * Up to `limit` cars past their retention, locked for the caller's transaction; rows another
 * sweep holds are passed over (SKIP LOCKED), so two sweeps at once never take the same car.
 * `unsold`: ended unsold `days` ago and not yet erased. `sold`: the legal hold is over and
 * the seller's name is still there.
 */
export function claimCarsPastRetention(q: CommonQueryMethods, which: 'unsold' | 'sold', period: number, limit: number) {
  const due =
    which === 'unsold'
      ? sql.fragment`erased_at IS NULL AND status IN ('declined', 'withdrawn', 'expired', 'lapsed')
                     AND updated_at < now() - make_interval(days => ${period})`
      : sql.fragment`status = 'sold' AND seller_name <> ${ERASED}
                     AND coalesce(legal_hold_until, coalesce(closed_at, updated_at) + make_interval(years => ${period})) < now()`;
  return q.anyFirst(sql.type(idRow)`SELECT id FROM "Bílar" WHERE ${due} ORDER BY updated_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED`);
}

/** Adds a sweep's counts to the running totals /metrics shows. */
export function addRetentionTotals(q: CommonQueryMethods, counts: Record<string, number>) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (!entries.length) return Promise.resolve();
  return q.query(sql.type(noRows)`
    INSERT INTO retention_totals (category, total, last_run_at)
    SELECT category, total, now() FROM unnest(${sql.array(
      entries.map(([c]) => c),
      'text',
    )}, ${sql.array(
      entries.map(([, n]) => n),
      'int8',
    )}) AS t(category, total)
    ON CONFLICT (category) DO UPDATE SET total = retention_totals.total + EXCLUDED.total, last_run_at = now()`);
}
