import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp } from '../helpers/app.js';
import { insertDealer, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake } from '../fakes/fake-server.js';
import { admin, bearer, dealerEnv, dealerSignIn } from './helpers.js';

/** The dealer's standing: `my_bid` on car objects, GET /api/dealer/bids and /purchases. */

let brevo: Fake<BrevoMode>;
let app: TestApp;
let tokenA: string;
let tokenB: string;
const A = 'a@standing.is';
const B = 'b@standing.is';

beforeAll(async () => {
  brevo = await startFakeBrevo();
  app = await startTestApp(dealerEnv(brevo, { AUTH_MODE: 'off' }));
  await insertDealer(app, A);
  await insertDealer(app, B);
  tokenA = await dealerSignIn(app, brevo, A);
  tokenB = await dealerSignIn(app, brevo, B);
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
});

async function bid(carId: string, dealer: string, amount: number, max?: number) {
  const res = await app.request('POST', '/api/bids/create', {
    body: { car_id: carId, dealer_name: dealer, dealer_email: dealer, bid_amount: amount, ...(max ? { max_amount: max } : {}) },
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function allPages(path: string, token: string, key: 'bids' | 'purchases') {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: ApiResponse = await app.request('GET', `${path}?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { headers: bearer(token) });
    expect(res.status, res.text).toBe(200);
    expect(res.body.count).toBe(res.body[key].length);
    items.push(...res.body[key]);
    cursor = res.body.next_cursor;
  } while (cursor);
  return items;
}

describe('the dealer standing', () => {
  let leadCar: string;
  let outbidCar: string;
  let soldCar: string;

  beforeAll(async () => {
    leadCar = (await registerCar(app, { carPlate: 'ST001' })).id;
    outbidCar = (await registerCar(app, { carPlate: 'ST002' })).id;
    soldCar = (await registerCar(app, { carPlate: 'ST003' })).id;
    await bid(leadCar, A, 100_000, 300_000);
    await bid(outbidCar, A, 50_000);
    await bid(outbidCar, B, 80_000);
    await bid(soldCar, B, 40_000);
    await bid(soldCar, A, 200_000);
    const accepted = await app.request('POST', `/api/cars/${soldCar}/accept-bid`, { headers: admin });
    expect(accepted.status, accepted.text).toBe(200);
  });

  it('car objects carry my_bid for the caller only, with their own proxy maximum', async () => {
    const mine = await app.request('GET', `/api/cars/${leadCar}`, { headers: bearer(tokenA) });
    expect(mine.body.car.my_bid).toEqual({ amount: 100_000, max_amount: 300_000, leading: true });
    const other = await app.request('GET', `/api/cars/${leadCar}`, { headers: bearer(tokenB) });
    expect(other.body.car.my_bid).toBeNull();
    const anonymous = await app.request('GET', `/api/cars/${leadCar}`);
    expect(anonymous.body.car.my_bid).toBeNull();

    const list = await app.request('GET', '/api/cars', { headers: bearer(tokenB) });
    const byId = new Map(list.body.cars.map((c: any) => [c.id, c.my_bid]));
    expect(byId.get(outbidCar)).toEqual({ amount: 80_000, max_amount: null, leading: true });
    expect(byId.get(soldCar)).toEqual({ amount: 40_000, max_amount: null, leading: false });
    expect(byId.get(leadCar)).toBeNull();
    // the list without a dealer token is as it was
    const plain = await app.request('GET', '/api/cars');
    expect(plain.body.cars.every((c: any) => c.my_bid === null)).toBe(true);
  });

  it('GET /api/dealer/bids: one entry per car with its standing, in keyset pages without gap or repeat', async () => {
    const a = await allPages('/api/dealer/bids', tokenA, 'bids');
    expect(a.map((e) => e.car.id)).toEqual([soldCar, outbidCar, leadCar]);
    expect(Object.fromEntries(a.map((e) => [e.car.id, e.standing]))).toEqual({
      [leadCar]: 'leading',
      [outbidCar]: 'outbid',
      [soldCar]: 'won',
    });
    const b = await allPages('/api/dealer/bids', tokenB, 'bids');
    expect(Object.fromEntries(b.map((e) => [e.car.id, e.standing]))).toEqual({ [outbidCar]: 'leading', [soldCar]: 'lost' });
  });

  it('a round that ended waits for the seller: awaiting_seller for the best bid, lost for the rest', async () => {
    await app.sql.query(`UPDATE "Bílar" SET status = 'closed', closed_at = now() WHERE id = $1`, [outbidCar]);
    const b = await allPages('/api/dealer/bids', tokenB, 'bids');
    expect(b.find((e) => e.car.id === outbidCar).standing).toBe('awaiting_seller');
    const a = await allPages('/api/dealer/bids', tokenA, 'bids');
    expect(a.find((e) => e.car.id === outbidCar).standing).toBe('lost');
  });

  it('GET /api/dealer/purchases: the cars sold to this dealer, with the price', async () => {
    const a = await allPages('/api/dealer/purchases', tokenA, 'purchases');
    expect(a.map((p) => [p.car.id, p.price])).toEqual([[soldCar, 200_000]]);
    expect(Date.parse(a[0].sold_at)).not.toBeNaN();
    expect(await allPages('/api/dealer/purchases', tokenB, 'purchases')).toEqual([]);
  });

  it('needs a dealer token; a bad cursor is a 422', async () => {
    expect((await app.request('GET', '/api/dealer/bids')).status).toBe(401);
    expect((await app.request('GET', '/api/dealer/purchases')).status).toBe(401);
    const bad = await app.request('GET', '/api/dealer/bids?cursor=nonsense', { headers: bearer(tokenA) });
    expect(bad.status).toBe(422);
  });

  it('an undeclared query parameter is a 422 here (x-kaggi-strict-query), and still ignored where it is not', async () => {
    const strict = await app.request('GET', '/api/dealer/bids?limt=5', { headers: bearer(tokenA) });
    expect(strict.status).toBe(422);
    expect(strict.text).toContain('query.limt');
    const lenient = await app.request('GET', '/api/status?limt=5');
    expect(lenient.status).toBe(200);
  });
});
