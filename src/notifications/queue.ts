import type { CommonQueryMethods } from 'slonik';
import { insertOutboxEmail, insertOutboxEmails } from '../db/outbox.js';
import type { OutboxEmail } from './kinds.js';

/**
 * Queues an e-mail inside the caller's transaction, so that it is sent exactly when the change
 * it tells of commits (the outbox worker, src/auctions/outbox.ts, sends it). Returns false when
 * that event already has its e-mail (same dedupe key).
 */
export const queueEmail = (tx: CommonQueryMethods, email: OutboxEmail): Promise<boolean> => insertOutboxEmail(tx, email);

/** Queues several e-mails in one statement (the alerts of one opening); how many were new. */
export const queueEmails = (tx: CommonQueryMethods, emails: readonly OutboxEmail[]): Promise<number> => insertOutboxEmails(tx, emails);
