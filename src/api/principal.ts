import type { Request } from 'express';

export type DealerStatus = 'pending' | 'approved' | 'suspended';

/**
 * Who is calling, as the guards of src/api/auth.ts found out; handlers only read it.
 * - `open`: AUTH_MODE=off. Nobody is identified and everything stays as it was
 *   before accounts existed (the existing frontend's fixed dealer sees everything).
 * - `anonymous`: AUTH_MODE=jwt without (valid) credentials.
 * - `admin`: the admin key or an admin-role token.
 * - `dealer`: a token's e-mail and that dealer's status; `unregistered` when no
 *   dealer has that e-mail.
 */
export type Principal =
  { kind: 'open' } | { kind: 'anonymous' } | { kind: 'admin' } | { kind: 'dealer'; email: string; status: DealerStatus | 'unregistered' };

const identified = new WeakMap<Request, Principal>();

export function setPrincipal(req: Request, principal: Principal): void {
  identified.set(req, principal);
}

/** The caller of `req`; a request no guard identified counts as anonymous, so a missing guard hides rather than leaks. */
export function principalOf(req: Request): Principal {
  return identified.get(req) ?? { kind: 'anonymous' };
}

/** The seller's name, e-mail and postal code: for admins and approved dealers (everyone with AUTH_MODE=off). */
export function seesSellerData(p: Principal): boolean {
  return p.kind === 'open' || p.kind === 'admin' || (p.kind === 'dealer' && p.status === 'approved');
}

/** Who placed a bid: admins see every bidder, a dealer only themself, nobody else anyone (all with AUTH_MODE=off). */
export function seesBidder(p: Principal, bidderEmail: string): boolean {
  return p.kind === 'open' || p.kind === 'admin' || (p.kind === 'dealer' && p.email === bidderEmail);
}

/** For the car SQL (selectCars in src/db/cars.ts): whether the caller of `req` gets the seller's data. */
export const sellerVisibility = (req: Request) => ({ visible: seesSellerData(principalOf(req)) });
