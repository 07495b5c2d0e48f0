import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { placeBid, registerCar, setStatus } from '../helpers/fixtures.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

const dealer = 'sala@bilaland.is';

describe('favourites', () => {
  it('adds (201), re-adds (200), lists car objects, removes (200) and 404s what is not there', async () => {
    const car = await registerCar(app);
    const added = await app.request('POST', '/api/favorites/add', { body: { car_id: car.id, dealer_email: dealer } });
    expect(added.status).toBe(201);
    const again = await app.request('POST', '/api/favorites/add', { body: { car_id: car.id, dealer_email: 'SALA@bilaland.is' } });
    expect(again.status).toBe(200);
    expect(again.body.favorite.id).toBe(added.body.favorite.id);

    const list = await app.request('GET', `/api/favorites/${dealer}`);
    expect(list.status).toBe(200);
    expect(list.body.favorites.map((c: { id: string }) => c.id)).toEqual([car.id]);
    expect(list.body.favorites[0]).toMatchObject({ car_plate: car.car_plate, status: 'active' });

    const removed = await app.request('DELETE', '/api/favorites/remove', { body: { car_id: car.id, dealer_email: dealer } });
    expect(removed.status).toBe(200);
    const gone = await app.request('DELETE', '/api/favorites/remove', { body: { car_id: car.id, dealer_email: dealer } });
    expect(gone.status).toBe(404);
    expect((await app.request('GET', `/api/favorites/${dealer}`)).body.count).toBe(0);
  });

  it('answers 404 for a missing car and leaves no row', async () => {
    const res = await app.request('POST', '/api/favorites/add', {
      body: { car_id: '7d1f0a4e-2a7b-4f53-9a55-1b2c3d4e5f60', dealer_email: dealer },
    });
    expect(res.status).toBe(404);
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM favorites WHERE car_id = $1', [
      '7d1f0a4e-2a7b-4f53-9a55-1b2c3d4e5f60',
    ]);
    expect(rows[0].n).toBe(0);
  });
});

describe('GET /api/dashboard/stats/{dealer_email}', () => {
  it('computes every figure from the database', async () => {
    const local = await startTestApp();
    try {
      const me = 'me@dealer.is';
      const [a, b, c, d] = [await registerCar(local), await registerCar(local), await registerCar(local), await registerCar(local)];
      await setStatus(local, d.id, 'pending');
      // amounts a bid increment (12,000 kr.) apart
      await placeBid(local, a.id, 100_000, me);
      await placeBid(local, a.id, 200_000, 'other@dealer.is');
      await placeBid(local, b.id, 300_000, me);
      await placeBid(local, c.id, 400_000, 'other@dealer.is');
      await placeBid(local, c.id, 500_000, me);
      await setStatus(local, b.id, 'sold'); // I hold the highest bid: a purchase
      await setStatus(local, a.id, 'sold'); // outbid: not mine
      await local.request('POST', '/api/favorites/add', { body: { car_id: c.id, dealer_email: me } });
      const res = await local.request('GET', `/api/dashboard/stats/${me}`);
      expect(res.status).toBe(200);
      expect(res.body.stats).toEqual({ active_auctions: 1, coming_cars: 1, my_bids: 3, favorites: 1, my_purchases: 1 });
      const other = await local.request('GET', '/api/dashboard/stats/nobody@dealer.is');
      expect(other.body.stats).toEqual({ active_auctions: 1, coming_cars: 1, my_bids: 0, favorites: 0, my_purchases: 0 });
    } finally {
      await local.close();
    }
  });

  it('test-connection reports the number of cars', async () => {
    const res = await app.request('GET', '/api/dashboard/test-connection');
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM "Bílar"');
    expect(res.body).toMatchObject({ success: true, recordCount: rows[0].n });
  });
});
