/**
 * The sale after the hammer, as data: its steps, the order they may come in, and its
 * states. No clock, no database: src/usecases/sale.ts applies it under the car's row lock.
 *
 * ```
 *   sold ──► contract_signed ─────────────┐
 *     │                                   ├──► ownership_transferred ─┐
 *     └──► buyer_paid ──┬─────────────────┘                           │
 *                       ├──► picked_up (also after contract_signed) ──┼──► completed
 *                       └──► seller_paid ─────────────────────────────┘
 * ```
 */

export const SALE_STEPS = ['contract_signed', 'buyer_paid', 'picked_up', 'ownership_transferred', 'seller_paid'] as const;
export type SaleStep = (typeof SALE_STEPS)[number];

/** `completed` is recorded by the system once every step is in; nobody records it by hand. */
export type RecordedStep = SaleStep | 'completed';

/** What a `sale` event in car_events tells of (never who, never the seller's details). */
export const SALE_ACTIONS = ['step', 'overdue', 'cancelled', 'pickup_proposed', 'pickup_confirmed', 'pickup_declined'] as const;
export type SaleAction = (typeof SALE_ACTIONS)[number];

export const SALE_STATES = ['open', 'overdue', 'completed', 'cancelled'] as const;
export type SaleState = (typeof SALE_STATES)[number];

/**
 * What must be recorded before each step. Kaggi pays the seller and hands the car over only
 * from the buyer's money, the car leaves only under a signed contract, and the registry takes
 * the transfer of ownership only on a signed and paid sale.
 */
export const STEP_REQUIRES: Readonly<Record<SaleStep, readonly SaleStep[]>> = {
  contract_signed: [],
  buyer_paid: [],
  picked_up: ['contract_signed', 'buyer_paid'],
  ownership_transferred: ['contract_signed', 'buyer_paid'],
  seller_paid: ['buyer_paid'],
};

export type StepRefusal = { code: 'step_already_recorded' | 'step_out_of_order' | 'sale_closed'; message: string };

/** Why `step` may not be recorded now (null: it may). `done`: the steps already recorded. */
export function stepRefusal(state: SaleState, done: readonly RecordedStep[], step: SaleStep): StepRefusal | null {
  if (state === 'cancelled' || state === 'completed') {
    return { code: 'sale_closed', message: `This sale is ${state}; no step can be recorded` };
  }
  if (done.includes(step)) return { code: 'step_already_recorded', message: `${step} is already recorded for this sale` };
  const missing = STEP_REQUIRES[step].filter((s) => !done.includes(s));
  if (missing.length > 0) {
    return { code: 'step_out_of_order', message: `${step} needs ${missing.join(' and ')} first` };
  }
  return null;
}

/** Whether, with `done` recorded, the sale is complete. */
export const allStepsDone = (done: readonly RecordedStep[]) => SALE_STEPS.every((s) => done.includes(s));

/** The state an open sale is in: overdue while a deadline the sweep found missed still waits for its step. */
export function openState(done: readonly RecordedStep[], flags: { paymentOverdue: boolean; pickupOverdue: boolean }): SaleState {
  const behind = (flags.paymentOverdue && !done.includes('buyer_paid')) || (flags.pickupOverdue && !done.includes('picked_up'));
  return behind ? 'overdue' : 'open';
}

/** A pick-up time the buyer may propose: in the future and not after the pick-up deadline (when there is one). */
export function pickupRefusal(at: Date, now: Date, pickupDue: Date | null): string | null {
  if (at.getTime() <= now.getTime()) return 'The pick-up time must be in the future';
  if (pickupDue && at.getTime() > pickupDue.getTime())
    return `The pick-up time must be no later than the pick-up deadline (${pickupDue.toISOString()})`;
  return null;
}

/** The seller's declarations the contract states (Kaggi's terms of listing). */
export const SELLER_DECLARATIONS = [
  'Seljandi er eigandi bifreiðarinnar og hefur fulla heimild til að selja hana.',
  'Bifreiðin er seld án veðbanda og annarra kvaða nema annað sé tekið fram.',
  'Seljandi hefur veitt réttar upplýsingar um ástand, akstur og tjón bifreiðarinnar eftir bestu vitund.',
] as const;

/**
 * An Icelandic bank account: bank 4 digits, ledger (höfuðbók) 2, account 6, written as
 * `0133-26-012345`, with or without the dashes or spaces. Null when it is not one.
 */
export function normaliseBankAccount(value: string): string | null {
  const m = /^\s*(\d{4})[\s-]?(\d{2})[\s-]?(\d{6})\s*$/.exec(value);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** What the seller sees of a detail: its last `keep` characters. */
export function mask(value: string, keep: number): string {
  const cut = Math.max(0, value.length - keep);
  return `${value.slice(0, cut).replace(/[0-9A-Za-zÀ-ÿ]/g, '•')}${value.slice(cut)}`;
}
