import { sql } from 'slonik';
import { z } from 'zod';
import { notFound } from '../errors.js';
import { carRow, listedCar, selectCars } from '../db/cars.js';
import { normaliseEmail } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { mediaBase } from '../storage/index.js';
import { sellerVisibility } from '../api/principal.js';

const removedRow = z.object({ id: z.string() });

const favoriteRow = z.object({
  id: z.string().uuid(),
  car_id: z.string().uuid(),
  dealer_email: z.string(),
  created_at: z.string(),
});

const addFavorite: Handler<'addFavorite'> = async ({ body, deps }) => {
  const dealerEmail = normaliseEmail(body.dealer_email, 'body.dealer_email');
  // Selecting the car inside the INSERT turns a missing car into "no row"
  // instead of a foreign-key error.
  const inserted = await deps.db.maybeOne(sql.type(favoriteRow)`
    INSERT INTO favorites (car_id, dealer_email)
    SELECT c.id, ${dealerEmail} FROM "Bílar" c WHERE c.id = ${body.car_id} AND ${listedCar}
    ON CONFLICT (car_id, dealer_email) DO NOTHING
    RETURNING id, car_id, dealer_email, created_at`);
  if (inserted) return { status: 201, body: { success: true, message: 'Car added to favorites', favorite: inserted } };
  // A separate statement sees a favourite committed by a concurrent request too.
  const existing = await deps.db.maybeOne(sql.type(favoriteRow)`
    SELECT id, car_id, dealer_email, created_at FROM favorites
    WHERE car_id = ${body.car_id} AND dealer_email = ${dealerEmail}`);
  if (!existing) throw notFound('Car');
  return { status: 200, body: { success: true, message: 'Car is already in favorites', favorite: existing } };
};

const removeFavorite: Handler<'removeFavorite'> = async ({ body, deps }) => {
  const removed = await deps.db.maybeOne(sql.type(removedRow)`
    DELETE FROM favorites WHERE car_id = ${body.car_id} AND dealer_email = ${normaliseEmail(body.dealer_email, 'body.dealer_email')}
    RETURNING id`);
  if (!removed) throw notFound('Favorite');
  return { status: 200, body: { success: true, message: 'Car removed from favorites' } };
};

const listFavorites: Handler<'listFavorites'> = async ({ params, req, deps }) => {
  const favorites = await deps.db.any(sql.type(carRow)`
    ${selectCars(sellerVisibility(req), mediaBase(deps))}
    JOIN favorites f ON f.car_id = c.id
    WHERE f.dealer_email = ${normaliseEmail(params.dealer_email, 'path.dealer_email')}
    ORDER BY f.created_at DESC, f.id DESC`);
  return { status: 200, body: { success: true, favorites: [...favorites], count: favorites.length } };
};

export const favoriteHandlers = { addFavorite, removeFavorite, listFavorites };
