import { normaliseEmail } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { principalOf } from '../api/principal.js';
import { addFavorite as add, listFavorites as list, removeFavorite as remove } from '../usecases/favorites.js';

const addFavorite: Handler<'addFavorite'> = async ({ body, deps }) => {
  const { favorite, added } = await add(deps, body.car_id, normaliseEmail(body.dealer_email, 'body.dealer_email'));
  if (added) return { status: 201, body: { success: true, message: 'Car added to favorites', favorite } };
  return { status: 200, body: { success: true, message: 'Car is already in favorites', favorite } };
};

const removeFavorite: Handler<'removeFavorite'> = async ({ body, deps }) => {
  await remove(deps, body.car_id, normaliseEmail(body.dealer_email, 'body.dealer_email'));
  return { status: 200, body: { success: true, message: 'Car removed from favorites' } };
};

const listFavorites: Handler<'listFavorites'> = async ({ params, req, deps }) => {
  const favorites = await list(deps, normaliseEmail(params.dealer_email, 'path.dealer_email'), principalOf(req));
  return { status: 200, body: { success: true, favorites: [...favorites], count: favorites.length } };
};

export const favoriteHandlers = { addFavorite, removeFavorite, listFavorites };
