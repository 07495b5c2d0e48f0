import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { camelCar, nextPlate } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { loadConfig } from '../../src/config.js';
import { lapseUnconfirmed } from '../../src/auctions/closing.js';
import { mailsTo, sellerEnv, signIn } from './seller-helpers.js';

/**
 * LISTING_REQUIRES_PHONE: a registration proves its phone (the SMS code the frontend already
 * asks for after registering) before it is listed, and until then squats nothing.
 */

let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
beforeAll(async () => {
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
});
afterAll(async () => {
  await brevo?.close();
  await twilio?.close();
});

let phoneCounter = 0;
const nextPhone = () => `+354 65${String(++phoneCounter).padStart(5, '0')}`;
const e164 = (phone: string) => phone.replace(/\s/g, '');

/** The frontend's flow: register, ask for the code, type it in. */
async function register(app: TestApp, plate: string, phone: string, email = 'seller@example.is') {
  return app.request('POST', '/api/cars/register', { body: camelCar({ carPlate: plate, phone, email }) });
}
async function verifyPhone(app: TestApp, phone: string) {
  expect((await app.request('POST', '/api/send-verification-code', { body: { phone } })).status).toBe(200);
  const sms = twilio.requests
    .filter((r) => r.path.endsWith('/Messages.json') && (r.body as Record<string, string>).To === e164(phone))
    .at(-1)!;
  const code = /(\d{6})/.exec((sms.body as Record<string, string>).Body)![1];
  const res = await app.request('POST', '/api/verify-code', { body: { phone, code } });
  expect(res.status).toBe(200);
  expect(res.body.valid).toBe(true);
  return res.body as { valid: boolean; confirmed_car_ids?: string[] };
}
const statusOf = async (app: TestApp, id: string) =>
  (await app.sql.query('SELECT status, auction_ends_at FROM "Bílar" WHERE id = $1', [id])).rows[0] as {
    status: string;
    auction_ends_at: Date | null;
  };

describe('the default', () => {
  it('is on in production and off elsewhere; an explicit value wins', () => {
    expect(loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'off' }).LISTING_REQUIRES_PHONE).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'off', LISTING_REQUIRES_PHONE: 'false' }).LISTING_REQUIRES_PHONE).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).LISTING_REQUIRES_PHONE).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development' }).LISTING_REQUIRES_PHONE).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', LISTING_REQUIRES_PHONE: 'true' }).LISTING_REQUIRES_PHONE).toBe(true);
  });
});

describe('LISTING_REQUIRES_PHONE=true', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(sellerEnv(brevo, twilio, { LISTING_REQUIRES_PHONE: 'true' }));
  });
  afterAll(async () => app?.close());

  it('a registration waits unconfirmed: not listed, no auction, no bids, no sign-in; the admin sees it', async () => {
    const plate = nextPlate('UC');
    const res = await register(app, plate, nextPhone(), 'waiting@example.is');
    expect(res.status).toBe(201);
    expect(res.body.car.status).toBe('unconfirmed');
    expect(res.body.car.auction_ends_at).toBeNull();
    expect(Date.parse(res.body.confirm_by) - Date.parse(res.body.car.created_at)).toBe(24 * 3600_000);
    const id = res.body.car_id as string;

    const list = await app.request('GET', '/api/cars?limit=500');
    expect(list.body.cars.map((c: { id: string }) => c.id)).not.toContain(id);
    expect((await app.request('GET', `/api/cars?status=unconfirmed`)).body.cars).toEqual([]);
    expect((await app.request('GET', `/api/cars/${id}`)).status).toBe(404);
    expect((await app.request('GET', `/api/cars/${id}/bids`)).status).toBe(404);
    // (an admin sees it through the API with AUTH_MODE=jwt, where callers are identified)
    expect((await statusOf(app, id)).status).toBe('unconfirmed');
    const bid = await app.request('POST', '/api/bids/create', {
      body: { car_id: id, dealer_name: 'Bílaland ehf.', dealer_email: 'sala@bilaland.is', bid_amount: 100_000 },
    });
    expect(bid.status).toBeGreaterThanOrEqual(400);
    expect(await app.sql.query('SELECT 1 FROM "uppboð" WHERE car_id = $1', [id]).then((r) => r.rowCount)).toBe(0);

    expect((await app.request('POST', '/api/seller/login', { body: { car_plate: plate, email: 'waiting@example.is' } })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(brevo, 'waiting@example.is')).toHaveLength(0);
  });

  it('register, then verify the phone: the car becomes active with its auction, is listed, and its seller can sign in', async () => {
    const plate = nextPlate('UV');
    const phone = nextPhone();
    const res = await register(app, plate, phone, 'proved@example.is');
    const id = res.body.car_id as string;
    const verified = await verifyPhone(app, phone);
    expect(verified.confirmed_car_ids).toEqual([id]);
    const car = await statusOf(app, id);
    expect(car.status).toBe('active');
    expect(car.auction_ends_at!.getTime()).toBeGreaterThan(Date.now() + 47 * 3600_000);
    expect((await app.request('GET', `/api/cars/${id}`)).body.car.status).toBe('active');
    await signIn(app, brevo, plate, 'proved@example.is');
  });

  it('a squatter’s registration blocks nobody: the first to verify wins, the others lapse', async () => {
    const plate = nextPlate('SQ');
    const squatterPhone = nextPhone();
    const ownerPhone = nextPhone();
    const squatter = await register(app, plate, squatterPhone, 'squatter@example.is');
    const owner = await register(app, plate, ownerPhone, 'owner@example.is');
    expect([squatter.status, owner.status]).toEqual([201, 201]);

    expect((await verifyPhone(app, ownerPhone)).confirmed_car_ids).toEqual([owner.body.car_id]);
    expect((await statusOf(app, owner.body.car_id)).status).toBe('active');
    expect((await statusOf(app, squatter.body.car_id)).status).toBe('lapsed');
    // verifying later confirms nothing
    expect((await verifyPhone(app, squatterPhone)).confirmed_car_ids).toBeUndefined();
    expect((await statusOf(app, squatter.body.car_id)).status).toBe('lapsed');
    // the confirmed car holds the plate now
    const late = await register(app, plate, nextPhone());
    expect([late.status, late.body.error]).toEqual([409, 'plate_already_registered']);
    // and the squatter never signs in
    expect((await app.request('POST', '/api/seller/login', { body: { car_plate: plate, email: 'squatter@example.is' } })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(brevo, 'squatter@example.is')).toHaveLength(0);
  });

  it('lapses after 24 hours: a late code confirms nothing, the sweep marks it lapsed', async () => {
    const plate = nextPlate('LP');
    const phone = nextPhone();
    const res = await register(app, plate, phone);
    const id = res.body.car_id as string;
    await app.sql.query(`UPDATE "Bílar" SET created_at = now() - interval '24 hours 1 minute' WHERE id = $1`, [id]);
    // one younger than 24 hours is left alone by the sweep
    const young = await register(app, nextPlate('LY'), nextPhone());
    const lapsed = await lapseUnconfirmed(app.db, { settings: app.config });
    expect(lapsed.map((c) => c.id)).toContain(id);
    expect(lapsed.map((c) => c.id)).not.toContain(young.body.car_id);
    expect((await statusOf(app, id)).status).toBe('lapsed');
    expect((await statusOf(app, young.body.car_id)).status).toBe('unconfirmed');
    expect((await verifyPhone(app, phone)).confirmed_car_ids).toBeUndefined();
    expect((await statusOf(app, id)).status).toBe('lapsed');
    const timeline = await app.sql.query(
      `SELECT data->>'status' AS status, data->>'by' AS by FROM car_events WHERE car_id = $1 ORDER BY id`,
      [id],
    );
    expect(timeline.rows).toEqual([
      { status: 'unconfirmed', by: 'registration' },
      { status: 'lapsed', by: 'sweep' },
    ]);
  });

  it('an old unconfirmed registration (not yet swept) is not confirmed by a code either', async () => {
    const phone = nextPhone();
    const res = await register(app, nextPlate('LO'), phone);
    await app.sql.query(`UPDATE "Bílar" SET created_at = now() - interval '25 hours' WHERE id = $1`, [res.body.car_id]);
    expect((await verifyPhone(app, phone)).confirmed_car_ids).toBeUndefined();
    expect((await statusOf(app, res.body.car_id)).status).toBe('unconfirmed');
  });
});

describe('LISTING_REQUIRES_PHONE=false (the legacy contract)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(sellerEnv(brevo, twilio));
  });
  afterAll(async () => app?.close());

  it('register, then verify the phone: active at once, and the verification changes nothing', async () => {
    const phone = nextPhone();
    const plate = nextPlate('LG');
    const res = await register(app, plate, phone);
    expect(res.status).toBe(201);
    expect(res.body.car.status).toBe('active');
    expect(res.body.confirm_by).toBeUndefined();
    expect((await verifyPhone(app, phone)).confirmed_car_ids).toBeUndefined();
    expect((await statusOf(app, res.body.car_id)).status).toBe('active');
    const again = await register(app, plate, nextPhone());
    expect([again.status, again.body.error]).toEqual([409, 'plate_already_registered']);
  });
});
