import { randomBytes } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { sellerSale } from './sale.js';
import { ApiError } from '../errors.js';
import {
  EXPORT_SECTIONS,
  REGISTER,
  dealerErasureBlocker,
  sellerErasureBlocker,
  type ExportSection,
  type ObjectKind,
  type TableEntry,
  type Use,
} from '../domain/personal-data.js';
import { VARIANT_NAMES, objectKey } from '../domain/image-limits.js';
import { insertAudit } from '../db/audit.js';
import {
  carEmail,
  closeDealerAccounts,
  dealersOf,
  eraseRows,
  exportRows,
  holdSoldCars,
  leadingRunning,
  markCarsErased,
  objectOwnerIds,
  sellerCarsOf,
  claimCarsPastRetention,
  type Person,
} from '../db/privacy.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/index.js';
import { EMAIL_KINDS, type EmailKind } from '../notifications/kinds.js';
import { render } from '../notifications/templates.js';
import { queueListChange } from './consent.js';

/**
 * A person's data on request (export) and erased on request (erasure), both walking the
 * register of src/domain/personal-data.ts: what it lists is exported and erased, nothing
 * else is coded here table by table.
 */

export type Requester =
  { kind: 'seller'; carId: string } | { kind: 'dealer'; email: string } | { kind: 'admin'; email?: string; phone?: string };

const emptyPerson = (): Person => ({ carIds: [], dealerIds: [], dealerEmails: [], emails: [], phones: [], names: [] });
const uniq = (values: (string | null | undefined)[]) => [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];

/** Who the requester is, as the register's finders need it; `lock` locks the cars and accounts found. */
async function resolvePerson(
  q: CommonQueryMethods,
  who: Requester,
  lock: boolean,
): Promise<{ person: Person; cars: readonly { id: string; status: string; open_sale: boolean }[] }> {
  const person = emptyPerson();
  let emails: string[];
  let phones: string[] = [];
  let asDealer = false;
  if (who.kind === 'seller') {
    const email = await carEmail(q, who.carId);
    // Already erased: the token's session has ended anyway; nothing is left to find.
    if (!email) return { person, cars: [] };
    emails = [email];
  } else if (who.kind === 'dealer') {
    emails = [who.email];
    asDealer = true;
  } else {
    emails = uniq([who.email]);
    phones = uniq([who.phone]);
    asDealer = true;
  }
  const cars = who.kind === 'dealer' ? [] : await sellerCarsOf(q, { emails, phones }, lock);
  const dealers = asDealer ? await dealersOf(q, { emails, phones }, lock) : [];
  person.carIds = cars.map((c) => c.id);
  person.dealerIds = dealers.map((d) => d.id);
  person.emails = uniq([...emails, ...cars.map((c) => c.email), ...dealers.map((d) => d.email)]);
  person.phones = uniq([...phones, ...cars.map((c) => c.phone), ...dealers.map((d) => d.mobile_number)]);
  person.names = uniq([...cars.map((c) => c.seller_name), ...dealers.map((d) => `${d.first_name} ${d.surname}`)]);
  person.dealerEmails = asDealer ? uniq([...emails, ...dealers.map((d) => d.email)]) : [];
  return { person, cars };
}

/** The names in the store of the objects a row of each kind names by its id, by variant. */
const OBJECT_NAMES: Record<ObjectKind, (id: string) => Record<string, string>> = {
  photos: (id) => Object.fromEntries(VARIANT_NAMES.map((variant) => [variant, objectKey(id, variant)])),
};

/** The stored objects of the rows an erasure deletes, read before they go. */
async function objectsOf(q: CommonQueryMethods, entry: TableEntry, use: Use, person: Person): Promise<string[]> {
  if (!entry.objects || use.erase !== 'delete') return [];
  const names = OBJECT_NAMES[entry.objects];
  return (await objectOwnerIds(q, entry, use, person)).flatMap((id) => Object.values(names(id)));
}

/**
 * After the commit: the rows are gone, so an object that cannot be removed now names nothing
 * and the orphan sweep (src/auctions/media-sweep.ts) removes it. Counts only in the log.
 */
async function removeObjects(deps: { storage?: Storage; logger: Logger }, keys: string[]): Promise<void> {
  if (!keys.length) return;
  if (!deps.storage) {
    deps.logger.warn('erased rows left stored objects for the orphan sweep (no store here)', { count: keys.length });
    return;
  }
  const storage = deps.storage;
  const results = await Promise.allSettled(keys.map((key) => storage.delete(key)));
  const failed = results.filter((r) => r.status === 'rejected').length;
  if (failed) deps.logger.warn('erased rows left stored objects for the orphan sweep', { count: failed });
}

const subjectsOf = (person: Person) => [...person.carIds.map((id) => `car:${id}`), ...person.dealerIds.map((id) => `dealer:${id}`)];

export type DataExport = {
  success: true;
  generated_at: string;
  subjects: string[];
  sections: Record<ExportSection, Record<string, unknown>[]>;
  masked: string[];
};

/** Everything the register finds for the person, by section; every section is present. */
export async function exportPersonalData(
  deps: Pick<Deps, 'db' | 'storage' | 'config'>,
  who: Requester,
  actor?: string,
): Promise<DataExport> {
  return deps.db.transaction(async (tx) => {
    const { person } = await resolvePerson(tx, who, false);
    const sections = Object.fromEntries(EXPORT_SECTIONS.map((s) => [s, [] as Record<string, unknown>[]])) as DataExport['sections'];
    const seen = new Set<string>();
    for (const entry of REGISTER) {
      for (const use of entry.uses) {
        if (!use.section) continue;
        for (const row of await exportRows(tx, entry, use, person)) {
          // One row found twice (a consent by car and by e-mail) is listed once.
          const key = `${entry.table}:${JSON.stringify(row)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          sections[use.section].push(
            use.section === 'emails' ? withSubject(row) : entry.objects ? withUrls(deps, entry.objects, row) : row,
          );
        }
      }
    }
    // The sale's sealed details, as the seller's own page shows them: masked, never in clear.
    const masked: string[] = [];
    for (const carId of person.carIds) {
      const sale = await sellerSale(tx, deps.config, carId);
      if (sale?.seller_details) {
        sections.sales.push({ car_id: carId, seller_details: sale.seller_details });
        if (!masked.includes('sales.seller_details')) masked.push('sales.seller_details');
      }
    }
    if (actor) await insertAudit(tx, { actor, action: 'data_export', subjects: subjectsOf(person), detail: { by: who.kind } });
    return { success: true, generated_at: new Date().toISOString(), subjects: subjectsOf(person), sections, masked };
  });
}

/** A row that names stored objects, with their URLs (`urls`, by variant). */
function withUrls(deps: Pick<Deps, 'storage'>, kind: ObjectKind, row: Record<string, unknown>): Record<string, unknown> {
  const names = OBJECT_NAMES[kind](String(row.id));
  return { ...row, urls: Object.fromEntries(Object.entries(names).map(([variant, key]) => [variant, deps.storage.url(key)])) };
}

/** An e-mail of the export: its kind, subject and times, not its body. */
function withSubject(row: Record<string, unknown>): Record<string, unknown> {
  const { params, ...rest } = row;
  const kind = String(row.kind);
  if (!(EMAIL_KINDS as readonly string[]).includes(kind) || typeof params !== 'object' || params === null)
    return { ...rest, subject: null };
  return { ...rest, subject: render(kind as EmailKind, params as Record<string, unknown>).subject };
}

export type ErasureResult = { success: true; erased: boolean; subjects: string[]; rows: Record<string, number>; legal_hold: string[] };

/**
 * Erases the person as the register says, in one transaction: refused (409
 * `erasure_blocked`) while a car of theirs is in a running round or they lead one as a
 * dealer; sold cars keep their contract data under legal hold (SALE_RETENTION_YEARS). A
 * repeat finds nothing left and answers `erased: false`.
 */
export async function erasePersonalData(
  deps: Pick<Deps, 'db' | 'config' | 'storage' | 'logger'>,
  who: Requester,
  actor?: string,
): Promise<ErasureResult> {
  const objects: string[] = [];
  const result = await deps.db.transaction(async (tx): Promise<ErasureResult> => {
    const { person, cars } = await resolvePerson(tx, who, true);
    const blocked =
      sellerErasureBlocker(cars) ??
      (person.dealerEmails.length ? dealerErasureBlocker(await leadingRunning(tx, person.dealerEmails)) : null);
    if (blocked) throw new ApiError(409, 'erasure_blocked', blocked);
    const subjects = subjectsOf(person);
    const rows: Record<string, number> = {};
    const found = subjects.length > 0 || person.emails.length > 0 || person.phones.length > 0;
    if (found) {
      if (person.dealerIds.length || person.dealerEmails.length) person.pseudonym = `dealer-${randomBytes(5).toString('hex')}`;
      await holdSoldCars(tx, person.carIds, deps.config.SALE_RETENTION_YEARS);
      // Marked first: an erased dealer's row may hold the `[erased]` phone (migration 013).
      if (person.carIds.length) await markCarsErased(tx, person.carIds);
      if (person.dealerIds.length) await closeDealerAccounts(tx, person.dealerIds, person.pseudonym!);
      for (const entry of REGISTER) {
        for (const use of entry.uses) {
          objects.push(...(await objectsOf(tx, entry, use, person)));
          const n = await eraseRows(tx, entry, use, person);
          if (n) rows[entry.table] = (rows[entry.table] ?? 0) + n;
        }
      }
    }
    // Off the newsletter list too (queued after the outbox rows naming the person were deleted).
    if (Object.keys(rows).length) for (const email of person.emails) await queueListChange(tx, email, false, null);
    const held = cars.filter((c) => c.status === 'sold').map((c) => `car:${c.id}`);
    if (actor)
      await insertAudit(tx, {
        actor,
        action: 'erasure',
        subjects,
        detail: { by: who.kind, rows: Object.values(rows).reduce((a, b) => a + b, 0) },
      });
    return { success: true, erased: Object.keys(rows).length > 0, subjects, rows, legal_hold: held };
  });
  // The rows went in the transaction; their objects only once it has committed.
  await removeObjects(deps, objects);
  return result;
}

/**
 * One batch of the retention job: up to `limit` cars past their retention, erased as an
 * erasure erases them, by the car alone (the seller's e-mail-keyed rows, such as e-mails sent,
 * have retention periods of their own and may belong to a car still running). Returns how
 * many cars were erased; fewer than `limit` means nothing more is due.
 */
export async function eraseCarsPastRetention(
  deps: Pick<Deps, 'db' | 'logger'> & { storage?: Storage },
  which: 'unsold' | 'sold',
  period: number,
  limit: number,
): Promise<number> {
  const objects: string[] = [];
  const erased = await deps.db.transaction(async (tx) => {
    const ids = await claimCarsPastRetention(tx, which, period, limit);
    if (!ids.length) return 0;
    const person: Person = { ...emptyPerson(), carIds: [...ids] };
    await markCarsErased(tx, person.carIds);
    for (const entry of REGISTER) {
      for (const use of entry.uses) {
        if (use.find.by !== 'car') continue;
        objects.push(...(await objectsOf(tx, entry, use, person)));
        await eraseRows(tx, entry, use, person);
      }
    }
    return ids.length;
  });
  await removeObjects(deps, objects);
  return erased;
}
