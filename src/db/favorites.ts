import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { carRow, listedCar, selectCars } from './cars.js';
import type { MediaBase } from './photos.js';

const favoriteRow = z.object({
  id: z.string().uuid(),
  car_id: z.string().uuid(),
  dealer_email: z.string(),
  created_at: z.string(),
});
export type FavoriteRow = z.infer<typeof favoriteRow>;

/**
 * Adds the favourite; null when it exists already or there is no (listed) car. Selecting the
 * car inside the INSERT turns a missing car into "no row" instead of a foreign-key error.
 */
export function insertFavorite(q: CommonQueryMethods, carId: string, dealerEmail: string): Promise<FavoriteRow | null> {
  return q.maybeOne(sql.type(favoriteRow)`
    INSERT INTO favorites (car_id, dealer_email)
    SELECT c.id, ${dealerEmail} FROM "Bílar" c WHERE c.id = ${carId} AND ${listedCar}
    ON CONFLICT (car_id, dealer_email) DO NOTHING
    RETURNING id, car_id, dealer_email, created_at`);
}

export function findFavorite(q: CommonQueryMethods, carId: string, dealerEmail: string): Promise<FavoriteRow | null> {
  return q.maybeOne(sql.type(favoriteRow)`
    SELECT id, car_id, dealer_email, created_at FROM favorites
    WHERE car_id = ${carId} AND dealer_email = ${dealerEmail}`);
}

const removedRow = z.object({ id: z.string() });

/** Whether there was one to remove. */
export async function deleteFavorite(q: CommonQueryMethods, carId: string, dealerEmail: string): Promise<boolean> {
  const removed = await q.maybeOne(sql.type(removedRow)`
    DELETE FROM favorites WHERE car_id = ${carId} AND dealer_email = ${dealerEmail}
    RETURNING id`);
  return removed !== null;
}

/** The dealer's favourite cars, newest favourite first. */
export function favoriteCars(q: CommonQueryMethods, dealerEmail: string, view: { seller: boolean }, media: MediaBase) {
  return q.any(sql.type(carRow)`
    ${selectCars({ visible: view.seller, bidder: dealerEmail }, media)}
    JOIN favorites f ON f.car_id = c.id
    WHERE f.dealer_email = ${dealerEmail}
    ORDER BY f.created_at DESC, f.id DESC`);
}
