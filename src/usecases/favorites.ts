import { notFound } from '../errors.js';
import { seesSellerData, type Principal } from '../domain/access.js';
import { deleteFavorite, favoriteCars, findFavorite, insertFavorite, type FavoriteRow } from '../db/favorites.js';
import { mediaBase } from '../storage/index.js';
import type { Deps } from '../deps.js';

/** Adds a favourite; `added: false` when it was one already (404 for no listed car). */
export async function addFavorite(
  deps: Pick<Deps, 'db'>,
  carId: string,
  dealerEmail: string,
): Promise<{ favorite: FavoriteRow; added: boolean }> {
  const inserted = await insertFavorite(deps.db, carId, dealerEmail);
  if (inserted) return { favorite: inserted, added: true };
  // A separate statement sees a favourite committed by a concurrent request too.
  const existing = await findFavorite(deps.db, carId, dealerEmail);
  if (!existing) throw notFound('Car');
  return { favorite: existing, added: false };
}

export async function removeFavorite(deps: Pick<Deps, 'db'>, carId: string, dealerEmail: string): Promise<void> {
  if (!(await deleteFavorite(deps.db, carId, dealerEmail))) throw notFound('Favorite');
}

export const listFavorites = (deps: Pick<Deps, 'db' | 'storage'>, dealerEmail: string, viewer: Principal) =>
  favoriteCars(deps.db, dealerEmail, { seller: seesSellerData(viewer) }, mediaBase(deps));
