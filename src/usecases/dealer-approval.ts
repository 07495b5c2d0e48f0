import { conflict, notFound } from '../errors.js';
import { pageOf } from '../domain/keyset.js';
import { approvedHolder, listDealersNewestFirst, lockDealer, lockKennitala, writeDealerStatus, type DealerRow } from '../db/dealers.js';
import type { Deps } from '../deps.js';
import { dealerSaleCounts } from '../db/sales.js';
import { queueEmail } from '../notifications/queue.js';
import { insertAudit } from '../db/audit.js';

/**
 * The approval queue (`status: 'pending'`) and every other list of dealers, newest first,
 * each with its record as a buyer: purchases that stand, and sales it backed out of.
 */
export async function listDealers(deps: Pick<Deps, 'db'>, filter: { status?: DealerRow['status']; after: string | null; limit: number }) {
  const page = pageOf(await listDealersNewestFirst(deps.db, filter), filter.limit);
  const emails = page.items.map((d) => d.email).filter((e): e is string => e !== null);
  const counts = new Map((await dealerSaleCounts(deps.db, emails)).map((c) => [c.dealer_email, c]));
  return {
    ...page,
    items: page.items.map((d) => {
      const c = d.email ? counts.get(d.email) : undefined;
      return { ...d, purchases: c?.purchases ?? 0, cancellations: c?.cancellations ?? 0 };
    }),
  };
}

/**
 * Approves, suspends or resets a dealer. Only one approved dealer per kennitala (checked under
 * the kennitala's lock). The dealer is told by e-mail (outbox, same transaction) when approved
 * or suspended. Setting the status a dealer already has changes nothing and sends nothing.
 */
export function setDealerStatus(
  deps: Pick<Deps, 'db'>,
  dealerId: string,
  status: DealerRow['status'],
  reason: string | null,
  /** Who changes it, for the audit log (a status change touches the dealer's personal data). */
  actor = 'admin',
): Promise<{ dealer: DealerRow; changed: boolean }> {
  return deps.db.transaction(async (tx) => {
    const current = await lockDealer(tx, dealerId);
    if (!current) throw notFound('Dealer');
    if (current.status === status) return { dealer: current, changed: false };
    if (status === 'approved') {
      await tx.one(lockKennitala(current.organization_number));
      if (await tx.maybeOne(approvedHolder(current.organization_number, current.id))) {
        throw conflict('kennitala_taken', `Another dealer with organization number ${current.organization_number} is already approved`);
      }
    }
    const dealer = await writeDealerStatus(tx, dealerId, status, reason);
    await insertAudit(tx, {
      actor,
      action: 'dealer_status_change',
      subjects: [`dealer:${dealer.id}`],
      detail: { status, from: current.status },
    });
    if (dealer.email && (dealer.status === 'approved' || dealer.status === 'suspended')) {
      await queueEmail(tx, {
        kind: dealer.status === 'approved' ? 'dealer_approved' : 'dealer_suspended',
        dedupeKey: `dealer_status:${dealer.id}:${dealer.status}:${dealer.status_changed_at}`,
        carId: null,
        toEmail: dealer.email,
        toName: dealer.dealer_name,
        params: { dealer_name: dealer.dealer_name, status: dealer.status, reason },
      });
    }
    return { dealer, changed: true };
  });
}
