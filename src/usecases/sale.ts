import type { CommonQueryMethods } from 'slonik';
import type { Config } from '../config.js';
import { ApiError, conflict, notConfigured, notFound, validationFailed } from '../errors.js';
import { SALE_VIEWS, saleViewerOf, type Principal, type SaleViewer } from '../domain/access.js';
import { kennitalaChecksumHolds, kennitalaDigits } from '../domain/normalise.js';
import {
  allStepsDone,
  mask,
  normaliseBankAccount,
  openState,
  pickupRefusal,
  stepRefusal,
  type RecordedStep,
  type SaleState,
  type SaleStep,
} from '../domain/sale.js';
import { parseKeyring, randomKeyring, seal, unseal, type Keyring } from '../domain/sealed.js';
import { decodeCursor, pageOf } from '../domain/keyset.js';
import { lockCar, type LockedCar } from '../db/car-status.js';
import {
  answerPickup,
  appendSaleEvent,
  cancelSale as cancelSaleRow,
  databaseNow,
  dealerSaleCounts,
  findLatestSale,
  findLiveSale,
  insertStep,
  listSales,
  lockLiveSale,
  lockOverdueSales,
  markOverdue,
  proposePickup,
  saleParties,
  setAsideBids,
  storeSellerDetails,
  updateAfterStep,
  type SaleParties,
  type SaleRow,
} from '../db/sales.js';
import { queueEmail } from '../notifications/queue.js';
import type { EmailKind } from '../notifications/kinds.js';
import type { Deps } from '../deps.js';
import { renderContract } from '../documents/contract.js';
import { changeStatus } from './lifecycle.js';

/**
 * The sale after the hammer: its steps (one use case, `recordSaleStep`, as a car's status
 * has `changeStatus`), the buyer backing out, the seller's details for the papers, the
 * pick-up and the overdue sweep. Every change locks the car's row, then the sale's, and in
 * that one transaction appends a `sale` event to `car_events` (no personal data) and queues
 * the e-mails; the rules are src/domain/sale.ts, who sees what src/domain/access.ts.
 */

type SaleDeps = Pick<Deps, 'db' | 'config'>;

// ---------- the sealed details ----------

const rings = new WeakMap<object, Keyring | null>();

/** The key ring of this configuration: DATA_ENCRYPTION_KEY, a per-process key outside production, none in production without it. */
export function keyringOf(config: Pick<Config, 'DATA_ENCRYPTION_KEY' | 'NODE_ENV'>): Keyring | null {
  let ring = rings.get(config);
  if (ring === undefined) {
    ring = config.DATA_ENCRYPTION_KEY
      ? parseKeyring(config.DATA_ENCRYPTION_KEY)
      : config.NODE_ENV === 'production'
        ? null
        : randomKeyring();
    rings.set(config, ring);
  }
  return ring;
}

const requireRing = (config: Pick<Config, 'DATA_ENCRYPTION_KEY' | 'NODE_ENV'>): Keyring => {
  const ring = keyringOf(config);
  if (!ring) throw notConfigured('Encryption at rest (DATA_ENCRYPTION_KEY)');
  return ring;
};

const aad = (saleId: string, field: 'kennitala' | 'address' | 'bank') => `sales.${field}:${saleId}`;

export type SellerDetails = { kennitala: string; address: string; bank_account: string };
export type SellerDetailsInput = SellerDetails & { vin?: string | null };

/** The seller's details in clear (admins, the contract); null until given, or when no key opens them. */
function openDetails(ring: Keyring | null, sale: SaleRow): SellerDetails | null {
  if (!sale.seller_kennitala || !sale.seller_address || !sale.seller_bank || !ring) return null;
  try {
    return {
      kennitala: unseal(ring, sale.seller_kennitala, aad(sale.id, 'kennitala')),
      address: unseal(ring, sale.seller_address, aad(sale.id, 'address')),
      bank_account: unseal(ring, sale.seller_bank, aad(sale.id, 'bank')),
    };
  } catch {
    // a key that is no longer in the ring: shown as missing rather than failing the page
    return null;
  }
}

const formatKennitala = (digits: string) => `${digits.slice(0, 6)}-${digits.slice(6)}`;

// ---------- the views ----------

export type SaleView = ReturnType<typeof shapeSale>;

function shapeSale(sale: SaleRow, viewer: SaleViewer, details: SellerDetails | null, parties: SaleParties | null) {
  const may = SALE_VIEWS[viewer];
  const shownDetails =
    may.details === 'none' || !details
      ? undefined
      : may.details === 'clear'
        ? details
        : { kennitala: mask(details.kennitala, 4), address: mask(details.address, 0), bank_account: mask(details.bank_account, 4) };
  return {
    id: sale.id,
    car_id: sale.car_id,
    car: { car_plate: sale.car_plate, car_make: sale.car_make, car_model: sale.car_model, vin: sale.vin, status: sale.car_status },
    state: sale.state,
    price: sale.price,
    buyer: { company: sale.buyer_company },
    sold_by: sale.sold_by,
    steps: sale.steps.map((s) => ({ step: s.step, recorded_by: s.recorded_by, at: s.at, ...(may.notes ? { note: s.note } : {}) })),
    deadlines: {
      payment_due_at: sale.payment_due_at,
      pickup_due_at: sale.pickup_due_at,
      payment_overdue: sale.payment_overdue_at !== null,
      pickup_overdue: sale.pickup_overdue_at !== null,
    },
    pickup: sale.pickup_at ? { at: sale.pickup_at, note: sale.pickup_note, state: sale.pickup_state!, answer: sale.pickup_answer } : null,
    seller_details_given: sale.details_at !== null,
    ...(viewer === 'seller' || viewer === 'admin' ? { seller_details: shownDetails ?? null } : {}),
    ...(may.contact && parties
      ? {
          seller_contact: {
            name: parties.seller_name,
            email: parties.seller_email,
            phone: parties.seller_phone,
            postal_code: parties.postal_code,
          },
        }
      : {}),
    ...(may.pickupAddress ? { pickup_address: details?.address ?? null } : {}),
    ...(viewer === 'admin' ? { dealer_email: sale.dealer_email, cancel_reason: sale.cancel_reason } : {}),
    created_at: sale.created_at,
    cancelled_at: sale.cancelled_at,
    completed_at: sale.completed_at,
  };
}

async function view(q: CommonQueryMethods, config: SaleDeps['config'], sale: SaleRow, viewer: SaleViewer): Promise<SaleView> {
  const may = SALE_VIEWS[viewer];
  const details = may.details !== 'none' || may.pickupAddress ? openDetails(keyringOf(config), sale) : null;
  const parties = may.contact ? await saleParties(q, sale.car_id, sale.dealer_email) : null;
  return shapeSale(sale, viewer, details, parties);
}

/** The seller's page: the car's sale (the latest, a cancelled one until a new sale replaces it), or null. */
export async function sellerSale(q: CommonQueryMethods, config: SaleDeps['config'], carId: string): Promise<SaleView | null> {
  const sale = await findLatestSale(q, carId);
  return sale ? view(q, config, sale, 'seller') : null;
}

const noSale = () => new ApiError(404, 'sale_not_found', 'This car has no sale');

export function adminSale(deps: SaleDeps, carId: string): Promise<SaleView> {
  return deps.db.transaction(async (tx) => {
    const sale = await findLatestSale(tx, carId);
    if (!sale) throw noSale();
    return view(tx, deps.config, sale, 'admin');
  });
}

/** The buying dealer's page of a purchase; 404 for anyone else (whether the car exists is nobody else's business). */
export function dealerPurchase(deps: SaleDeps, carId: string, caller: Principal): Promise<SaleView> {
  return deps.db.transaction(async (tx) => {
    const sale = await findLiveSale(tx, carId);
    const viewer = sale ? saleViewerOf(caller, sale.dealer_email) : null;
    if (!sale || viewer === null) throw new ApiError(404, 'purchase_not_found', 'You have no purchase of this car');
    return view(tx, deps.config, sale, viewer === 'admin' ? 'admin' : 'buyer');
  });
}

export async function adminSales(deps: SaleDeps, filter: { state?: SaleState; cursor?: string; limit: number }) {
  const after = filter.cursor ? decodeCursor(filter.cursor) : null;
  return deps.db.transaction(async (tx) => {
    const rows = await listSales(tx, { state: filter.state, after, limit: filter.limit });
    const page = pageOf(rows, filter.limit);
    const items = [];
    for (const sale of page.items) items.push(await view(tx, deps.config, sale, 'admin'));
    return { items, next_cursor: page.next_cursor };
  });
}

/** Purchases that stand and cancellations, per dealer e-mail (the back office's dealer list). */
export async function saleCountsByDealer(q: CommonQueryMethods, emails: readonly string[]) {
  const rows = await dealerSaleCounts(q, emails);
  return new Map(rows.map((r) => [r.dealer_email, { purchases: r.purchases, cancellations: r.cancellations }]));
}

// ---------- e-mails and events ----------

type Party = 'seller' | 'buyer' | 'backoffice';

async function tell(
  tx: CommonQueryMethods,
  config: SaleDeps['config'],
  car: LockedCar,
  sale: SaleRow,
  who: readonly Party[],
  kind: EmailKind,
  key: string,
  params: Record<string, string | number | boolean | null>,
): Promise<void> {
  const common = { car_id: car.id, car_make: car.car_make, car_model: car.car_model, car_plate: car.car_plate, year: car.year };
  const to: { party: Party; email: string | null | undefined; name: string | null }[] = [
    { party: 'seller', email: car.email, name: car.seller_name },
    { party: 'buyer', email: sale.dealer_email, name: sale.buyer_company },
    { party: 'backoffice', email: config.BACKOFFICE_EMAIL, name: 'Kaggi' },
  ];
  for (const r of to) {
    if (!who.includes(r.party) || !r.email) continue;
    await queueEmail(tx, {
      kind,
      dedupeKey: `${kind}:${sale.id}:${key}:${r.party}`,
      carId: car.id,
      toEmail: r.email.toLowerCase(),
      toName: r.name,
      params: { ...common, ...params, to_name: r.name, to_seller: r.party === 'seller' },
    });
  }
}

/** Locks the car, then its live sale; 404 when there is none. */
async function lockSale(tx: CommonQueryMethods, carId: string): Promise<{ car: LockedCar; sale: SaleRow }> {
  const car = await lockCar(tx, carId);
  if (!car) throw notFound('Car');
  const sale = await lockLiveSale(tx, carId);
  if (!sale) throw noSale();
  return { car, sale };
}

const reread = async (tx: CommonQueryMethods, carId: string) => (await findLatestSale(tx, carId))!;

// ---------- the steps ----------

/**
 * Records one step of a car's sale (the back office), under the car's row lock: 409
 * `step_already_recorded`, `step_out_of_order` or `sale_closed` when the rules refuse it.
 * The last step completes the sale. The seller and the buyer are told.
 */
export function recordSaleStep(deps: SaleDeps, carId: string, step: SaleStep, note: string | null): Promise<SaleView> {
  return deps.db.transaction(async (tx) => {
    const { car, sale } = await lockSale(tx, carId);
    const done = sale.steps.map((s) => s.step);
    const refused = stepRefusal(sale.state, done, step);
    if (refused) throw conflict(refused.code, refused.message);
    await insertStep(tx, sale.id, step, 'admin', note);
    const now: RecordedStep[] = [...done, step];
    const completed = allStepsDone(now);
    if (completed) await insertStep(tx, sale.id, 'completed', 'system', null);
    const state: SaleState = completed
      ? 'completed'
      : openState(now, { paymentOverdue: sale.payment_overdue_at !== null, pickupOverdue: sale.pickup_overdue_at !== null });
    await updateAfterStep(tx, sale.id, { state, startPickupClock: step === 'buyer_paid' ? { days: deps.config.SALE_PICKUP_DAYS } : null });
    await appendSaleEvent(tx, carId, { action: 'step', step, sale_state: state });
    if (completed) await appendSaleEvent(tx, carId, { action: 'step', step: 'completed', sale_state: state });
    await tell(tx, deps.config, car, sale, ['seller', 'buyer'], 'sale_step', step, { step, completed });
    return view(tx, deps.config, await reread(tx, carId), 'admin');
  });
}

/**
 * The buyer backed out (the back office records it): the sale is cancelled, the buyer's bids
 * are set aside and the car goes back to `closed` with a fresh decision deadline, so the
 * seller decides again between the bids that still count. Under the car's row lock: a step
 * and a cancellation racing, one of them wins and the other answers 409.
 */
export function cancelSale(deps: SaleDeps, carId: string, reason: string): Promise<SaleView> {
  return deps.db.transaction(async (tx) => {
    const { car, sale } = await lockSale(tx, carId);
    if (sale.state === 'completed') throw conflict('sale_closed', 'This sale is completed; it cannot be cancelled');
    if (sale.steps.some((s) => s.step === 'ownership_transferred')) {
      throw conflict('sale_closed', 'Ownership has been transferred; the sale can no longer be cancelled here');
    }
    await cancelSaleRow(tx, sale.id, reason);
    await setAsideBids(tx, carId, sale.dealer_email);
    const change = await changeStatus(tx, carId, 'closed', { by: 'cancellation', settings: deps.config, reason: 'sale_cancelled' });
    await appendSaleEvent(tx, carId, { action: 'cancelled', step: null, sale_state: 'cancelled' });
    await tell(tx, deps.config, car, sale, ['seller', 'buyer'], 'sale_cancelled', 'cancel', {
      decision_due_at: change!.decision_due_at,
    });
    return view(tx, deps.config, await reread(tx, carId), 'admin');
  });
}

// ---------- the seller's details ----------

/** 422 with the field's path: the one error shape of invalid input. */
const invalid = (path: string, message: string) => validationFailed([{ path, message }]);

/**
 * The seller's details for the papers, sealed at rest (src/domain/sealed.ts). Only on a sold
 * car whose sale is open (409 `car_not_sold` otherwise); replacing them is allowed until the
 * sale is completed. Never logged, never in an event or an e-mail.
 */
export function putSellerDetails(deps: SaleDeps, carId: string, input: SellerDetailsInput): Promise<SaleView> {
  const ring = requireRing(deps.config);
  const digits = kennitalaDigits(input.kennitala);
  if (!digits || !kennitalaChecksumHolds(digits)) throw invalid('body.kennitala', 'is not a valid kennitala (10 digits, mod-11)');
  const bank = normaliseBankAccount(input.bank_account);
  if (!bank) throw invalid('body.bank_account', 'must be bank (4 digits), ledger (2) and account (6), e.g. 0133-26-012345');
  const address = input.address.trim();
  if (!address) throw invalid('body.address', 'must not be blank');
  return deps.db.transaction(async (tx) => {
    const car = await lockCar(tx, carId);
    if (!car) throw new ApiError(401, 'unauthorized', 'This seller session is no longer valid; sign in again');
    const sale = car.status === 'sold' ? await lockLiveSale(tx, carId) : null;
    if (!sale || sale.state === 'completed') {
      throw conflict('car_not_sold', `The details are for the papers of an open sale; this car is ${car.status}`);
    }
    await storeSellerDetails(tx, sale.id, {
      kennitala: seal(ring, formatKennitala(digits), aad(sale.id, 'kennitala')),
      address: seal(ring, address, aad(sale.id, 'address')),
      bank: seal(ring, bank, aad(sale.id, 'bank')),
      vin: input.vin?.trim().toUpperCase() || null,
    });
    return view(tx, deps.config, await reread(tx, carId), 'seller');
  });
}

// ---------- the pick-up ----------

/** The buying dealer proposes a pick-up time: in the future, within the pick-up deadline (422 otherwise). */
export function proposeSalePickup(deps: SaleDeps, carId: string, caller: Principal, at: string, note: string | null): Promise<SaleView> {
  return deps.db.transaction(async (tx) => {
    const car = await lockCar(tx, carId);
    const sale = car ? await lockLiveSale(tx, carId) : null;
    if (!car || !sale || saleViewerOf(caller, sale.dealer_email) !== 'buyer') {
      throw new ApiError(404, 'purchase_not_found', 'You have no purchase of this car');
    }
    if (sale.state === 'completed' || sale.steps.some((s) => s.step === 'picked_up')) {
      throw conflict('pickup_done', 'The car has already been picked up');
    }
    const now = new Date(await databaseNow(tx));
    const refused = pickupRefusal(new Date(at), now, sale.pickup_due_at ? new Date(sale.pickup_due_at) : null);
    if (refused) throw invalid('body.at', refused);
    await proposePickup(tx, sale.id, new Date(at).toISOString(), note);
    await appendSaleEvent(tx, carId, { action: 'pickup_proposed', step: null, sale_state: sale.state });
    const after = await reread(tx, carId);
    await tell(tx, deps.config, car, sale, ['seller', 'buyer'], 'pickup_proposed', `propose:${after.updated_at}`, {
      pickup_at: after.pickup_at,
    });
    return view(tx, deps.config, after, 'buyer');
  });
}

/** The seller confirms the proposed time, or asks for another (with a note). */
export function answerSalePickup(deps: SaleDeps, carId: string, confirm: boolean, note: string | null): Promise<SaleView> {
  return deps.db.transaction(async (tx) => {
    const { car, sale } = await lockSale(tx, carId);
    if (sale.pickup_state !== 'proposed' || !sale.pickup_at) {
      throw conflict('no_pickup_proposed', 'There is no proposed pick-up time to answer');
    }
    await answerPickup(tx, sale.id, confirm, note);
    await appendSaleEvent(tx, carId, { action: confirm ? 'pickup_confirmed' : 'pickup_declined', step: null, sale_state: sale.state });
    const after = await reread(tx, carId);
    await tell(tx, deps.config, car, sale, ['seller', 'buyer'], 'pickup_answered', `answer:${after.updated_at}`, {
      confirmed: confirm,
      pickup_at: sale.pickup_at,
      note: confirm ? null : note,
    });
    return view(tx, deps.config, after, 'seller');
  });
}

// ---------- the overdue sweep ----------

/**
 * Marks sales past a deadline `overdue`, once per deadline, and tells the buyer and the back
 * office. Rows are locked with SKIP LOCKED (with their car's), so several instances running
 * the sweep at once each take other sales, and none is marked or e-mailed twice.
 */
export async function markOverdueSales(deps: SaleDeps, limit = 200): Promise<number> {
  return deps.db.transaction(async (tx) => {
    const due = await lockOverdueSales(tx, limit);
    for (const d of due) {
      await markOverdue(tx, d.id, { payment: d.payment, pickup: d.pickup });
      const car = (await lockCar(tx, d.car_id))!;
      const sale = (await findLiveSale(tx, d.car_id))!;
      for (const deadline of [d.payment ? 'payment' : null, d.pickup ? 'pickup' : null].filter((x) => x !== null)) {
        await appendSaleEvent(tx, d.car_id, {
          action: 'overdue',
          step: deadline === 'payment' ? 'buyer_paid' : 'picked_up',
          sale_state: 'overdue',
        });
        await tell(tx, deps.config, car, sale, ['buyer', 'backoffice'], 'sale_overdue', deadline, {
          deadline,
          due_at: deadline === 'payment' ? sale.payment_due_at : sale.pickup_due_at,
        });
      }
    }
    return due.length;
  });
}

// ---------- the contract ----------

export type ContractData = { sale: SaleRow; details: SellerDetails; parties: SaleParties; date: string };

/**
 * What the bill of sale says, for the seller, the buying dealer or an admin (404 for anyone
 * else); 409 `sale_details_missing` until the seller's details are in.
 */
export function contractData(
  deps: SaleDeps,
  carId: string,
  caller: { sellerCarId: string | null; principal: Principal },
): Promise<ContractData> {
  return deps.db.transaction(async (tx) => {
    const sale = await findLiveSale(tx, carId);
    const p = caller.principal;
    const dealerEmail = p.kind === 'dealer' && p.status === 'approved' ? p.email : p.kind === 'open' ? (p.dealer?.email ?? null) : null;
    const party =
      sale && (caller.sellerCarId === carId || p.kind === 'admin' || (dealerEmail !== null && dealerEmail === sale.dealer_email));
    if (!sale || !party) throw noSale();
    if (!sale.details_at) throw conflict('sale_details_missing', 'The seller has not yet given the details the contract needs');
    const details = openDetails(requireRing(deps.config), sale);
    if (!details) throw notConfigured('The key that sealed the seller’s details (DATA_ENCRYPTION_KEY)');
    return { sale, details, parties: await saleParties(tx, carId, sale.dealer_email), date: await databaseNow(tx) };
  });
}

/** The bill of sale as a PDF (see `contractData` for who may have it). */
export async function saleContract(deps: SaleDeps, carId: string, caller: { sellerCarId: string | null; principal: Principal }) {
  const { sale, details, parties, date } = await contractData(deps, carId, caller);
  const address = [parties.dealer_street_address, [parties.dealer_postal_code, parties.dealer_city].filter(Boolean).join(' ')]
    .filter(Boolean)
    .join(', ');
  const org = parties.dealer_organization_number;
  const pdf = await renderContract({
    seller: { name: parties.seller_name, kennitala: details.kennitala, address: details.address },
    buyer: { company: parties.dealer_name ?? sale.buyer_company, kennitala: org ? formatKennitala(org) : null, address: address || null },
    car: {
      plate: sale.car_plate,
      vin: sale.vin,
      make: sale.car_make,
      model: sale.car_model,
      first_registration: String(parties.year),
      mileage: parties.mileage,
    },
    price: sale.price,
    date,
    condition: { grade: parties.overall_grade, inspector: parties.inspector },
    sale_id: sale.id,
  });
  return { pdf, plate: sale.car_plate };
}
