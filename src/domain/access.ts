export type DealerStatus = 'pending' | 'approved' | 'suspended';

/**
 * The caller, as the guards of src/api/auth.ts found out.
 * - `open`: AUTH_MODE=off. Nobody is identified and everything stays as it was
 *   before accounts existed (the existing frontend's fixed dealer sees everything).
 * - `anonymous`: AUTH_MODE=jwt without (valid) credentials.
 * - `admin`: the admin key or an admin-role token; `actor` names which (the key's label,
 *   or `token:` and the token's subject), for the audit log.
 * - `dealer`: a token's e-mail and that dealer's status; `unregistered` (and no `id`)
 *   when no dealer has that e-mail. Kaggi's own dealer token names the dealer by id.
 *
 * With AUTH_MODE=off a caller with Kaggi's own dealer token is still `open` (sees what
 * everyone sees), with `dealer` set: what is theirs (`my_bid`, saved searches) needs a person.
 */
export type DealerIdentity = { id: string | null; email: string; status: DealerStatus | 'unregistered' };
export type Principal =
  | { kind: 'open'; dealer?: DealerIdentity }
  | { kind: 'anonymous' }
  | { kind: 'admin'; actor?: string }
  | ({ kind: 'dealer' } & DealerIdentity);

/** The dealer a caller is, when they are one: whose own bids and searches they see. */
export function dealerOf(p: Principal): DealerIdentity | null {
  if (p.kind === 'dealer') return { id: p.id, email: p.email, status: p.status };
  if (p.kind === 'open') return p.dealer ?? null;
  return null;
}

/** The seller's name, e-mail and postal code: for admins and approved dealers (everyone with AUTH_MODE=off). */
export function seesSellerData(p: Principal): boolean {
  return p.kind === 'open' || p.kind === 'admin' || (p.kind === 'dealer' && p.status === 'approved');
}

/**
 * The seller's declarations (damage, repairs, and whether the car is sold from an estate or
 * under a power of attorney: facts about people): to the same callers as the seller's data,
 * and to the seller on their own page.
 */
export function seesDeclarations(p: Principal): boolean {
  return seesSellerData(p);
}

/** Who placed a bid: admins see every bidder, a dealer only themself, nobody else anyone (all with AUTH_MODE=off). */
export function seesBidder(p: Principal, bidderEmail: string): boolean {
  return p.kind === 'open' || p.kind === 'admin' || (p.kind === 'dealer' && p.email === bidderEmail);
}

/** Cars nobody has confirmed (or that lapsed) are no listing: only an admin sees them, everyone else gets 404. */
export function seesUnlisted(p: Principal): boolean {
  return p.kind === 'admin';
}

/**
 * Who is looking at a sale, and what each sees (src/usecases/sale.ts shapes the views):
 * - `admin`: everything, the seller's details in clear and the staff's notes;
 * - `seller`: the steps, deadlines and pick-up, their own details masked;
 * - `buyer` (the dealer on the winning bid): the same plus the seller's contact details and
 *   the car's address for pick-up; never the seller's kennitala or bank account.
 * Nobody else sees a sale.
 */
export type SaleViewer = 'admin' | 'seller' | 'buyer';

export const SALE_VIEWS: Readonly<
  Record<SaleViewer, { details: 'clear' | 'masked' | 'none'; contact: boolean; pickupAddress: boolean; notes: boolean }>
> = {
  admin: { details: 'clear', contact: true, pickupAddress: true, notes: true },
  seller: { details: 'masked', contact: false, pickupAddress: false, notes: false },
  buyer: { details: 'none', contact: true, pickupAddress: true, notes: false },
};

/**
 * The dealer side of a sale: the buying dealer, or (AUTH_MODE=off, `open`) the frontend's one
 * dealer, who sees everything there as elsewhere. Null: this caller is no party to the sale.
 */
export function saleViewerOf(p: Principal, buyerEmail: string): SaleViewer | null {
  if (p.kind === 'admin') return 'admin';
  if (p.kind === 'open') return 'buyer';
  if (p.kind === 'dealer' && p.status === 'approved' && p.email === buyerEmail) return 'buyer';
  return null;
}

/** Who is changing a car's photos: its seller (a seller token for that car) or an admin. */
export type PhotoEditor = { kind: 'seller'; carId: string } | { kind: 'admin' };

/** The statuses in which a seller may still change the car's photos (an admin may at any). */
export const SELLER_EDITABLE_STATUSES = ['pending', 'active'] as const;

/** Whether `editor` may change the photos of a car in `status`. */
export function mayEditPhotos(editor: PhotoEditor, status: string): boolean {
  return editor.kind === 'admin' || (SELLER_EDITABLE_STATUSES as readonly string[]).includes(status);
}
