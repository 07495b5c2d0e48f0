import { describe, expect, it } from 'vitest';
import { CAR_STATUSES, FINAL_STATUSES, TRANSITIONS, findTransition } from '../../src/domain/lifecycle.js';

/** The whole lifecycle in one table: a change to it shows up here first. */
describe('the car lifecycle', () => {
  it('allows exactly these changes, by these actors', () => {
    const table = TRANSITIONS.map((t) => `${t.from} → ${t.to}: ${t.by.join(', ')}${t.due ? ` (at ${t.due})` : ''}`);
    expect(table).toEqual([
      'pending → active: admin, inspection',
      'pending → sold: admin',
      'pending → withdrawn: seller',
      'active → closed: sweep (at auctionEnded)',
      'active → closed: admin',
      'active → sold: admin',
      'active → pending: admin',
      'active → withdrawn: seller',
      'closed → sold: admin, seller',
      'closed → declined: seller',
      'closed → expired: sweep (at decisionDue)',
      'closed → active: admin, inspection',
      'closed → pending: admin',
      'expired → active: admin',
      'sold → closed: cancellation',
      'unconfirmed → active: confirmation',
      'unconfirmed → lapsed: confirmation',
      'unconfirmed → lapsed: sweep (at confirmationLapsed)',
    ]);
  });

  it('has declined, withdrawn and lapsed as final statuses, and sold but for a cancelled sale', () => {
    expect([...FINAL_STATUSES].sort()).toEqual(['declined', 'lapsed', 'withdrawn']);
    for (const from of [...FINAL_STATUSES, 'sold' as const])
      for (const to of CAR_STATUSES) expect(findTransition(from, to, 'admin')).toBeNull();
    for (const by of ['admin', 'seller', 'sweep', 'inspection', 'confirmation'] as const)
      expect(findTransition('sold', 'closed', by)).toBeNull();
    expect(findTransition('sold', 'closed', 'cancellation')?.effects).toEqual(['recordWinner', 'decisionDeadline']);
  });

  it('keeps the seller’s decisions the seller’s, and the sweep’s the sweep’s', () => {
    expect(findTransition('closed', 'declined', 'admin')).toBeNull();
    expect(findTransition('closed', 'expired', 'admin')).toBeNull();
    expect(findTransition('active', 'withdrawn', 'admin')).toBeNull();
    expect(findTransition('active', 'sold', 'seller')).toBeNull();
    expect(findTransition('closed', 'active', 'seller')).toBeNull();
    expect(findTransition('active', 'closed', 'sweep')?.due).toBe('auctionEnded');
    expect(findTransition('closed', 'sold', 'seller')?.notify).toEqual(['seller', 'winner']);
  });

  it('lets only a verified phone list an unconfirmed registration', () => {
    for (const by of ['admin', 'seller', 'sweep', 'inspection'] as const) expect(findTransition('unconfirmed', 'active', by)).toBeNull();
    expect(findTransition('unconfirmed', 'lapsed', 'sweep')?.due).toBe('confirmationLapsed');
    for (const from of CAR_STATUSES)
      for (const by of ['admin', 'seller', 'sweep', 'inspection', 'confirmation'] as const) {
        expect(findTransition(from, 'unconfirmed', by)).toBeNull();
      }
  });
});
