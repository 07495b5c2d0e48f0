import type { Request } from 'express';
import type { Principal } from '../domain/access.js';

export type { DealerIdentity, DealerStatus, Principal } from '../domain/access.js';

const identified = new WeakMap<Request, Principal>();

export function setPrincipal(req: Request, principal: Principal): void {
  identified.set(req, principal);
}

/** The caller of `req`; a request no guard identified counts as anonymous, so a missing guard hides rather than leaks. */
export function principalOf(req: Request): Principal {
  return identified.get(req) ?? { kind: 'anonymous' };
}
