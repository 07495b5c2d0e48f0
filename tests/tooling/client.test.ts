import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKaggiClient, type Car, type KaggiClient, type SavedSearch } from '../../client/index.js';
import { dealerTokens } from '../../src/api/session-tokens.js';
import { insertDealer } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { Fake } from '../fakes/fake-server.js';
import { startFakeTwilio, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, type TwilioMode } from '../fakes/twilio.js';
import { specChecked, type CheckedResponse } from './spec-checked.js';

/**
 * The frontend's two journeys, driven through the typed client (client/index.ts) against
 * the real app on a fresh database. Every response passes through `specChecked`, which
 * validates it against openapi.yaml before the test sees it.
 */

let app: TestApp;
let twilio: Fake<TwilioMode>;
let kaggi: KaggiClient;
let seen: CheckedResponse[];
let checked: ReturnType<typeof specChecked>;

beforeAll(async () => {
  twilio = await startFakeTwilio();
  // Twilio Messaging (own 6-digit codes sent by SMS) pointed at the fake; Creditinfo, Brevo
  // and RSK have no credentials and run in their sandboxes.
  app = await startTestApp({
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: TWILIO_FROM,
    TWILIO_API_BASE: twilio.url,
  });
  checked = specChecked();
  seen = checked.seen;
  kaggi = createKaggiClient(`${app.url}/`, { middleware: [checked.middleware] });
});
afterAll(async () => {
  await app?.close();
  await twilio?.close();
});

/** Fails with the API's own error body instead of a bare "undefined". */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, expectedStatus: number): T {
  expect(result.error, `${result.response.status}: ${JSON.stringify(result.error)}`).toBeUndefined();
  expect(result.response.status).toBe(expectedStatus);
  return result.data as T;
}

describe('typed client', () => {
  it('sends the dealer token and admin key when given', async () => {
    const headers: Record<string, string | null> = {};
    const client = createKaggiClient('http://kaggi.invalid', {
      token: async () => 'dealer.jwt.token',
      adminKey: 'admin-secret',
      fetch: async (req: Request) => {
        headers.authorization = req.headers.get('authorization');
        headers.admin = req.headers.get('x-admin-key');
        headers.url = req.url;
        return new Response(
          JSON.stringify({ success: true, message: 'x', version: '1', environment: 'test', timestamp: new Date().toISOString() }),
          {
            status: 200,
            headers: { 'content-type': 'application/json' },
          },
        );
      },
    });
    const { data } = await client.GET('/api');
    expect(data?.success).toBe(true);
    expect(headers).toEqual({ authorization: 'Bearer dealer.jwt.token', admin: 'admin-secret', url: 'http://kaggi.invalid/api' });
  });
});

describe('compile-time checking (enforced by `npm run typecheck`)', () => {
  it('rejects unknown paths, wrong bodies and missing parameters', () => {
    // Never called: each line must stay a type error, or tsc fails on the unused directive.
    const typeErrors = (client: KaggiClient) => {
      // @ts-expect-error not a path of openapi.yaml
      void client.GET('/api/no-such-route');
      // @ts-expect-error POST is not an operation of /api/cars
      void client.POST('/api/cars', {});
      // @ts-expect-error bid_amount is a number of ISK
      void client.POST('/api/bids/create', { body: { car_id: 'c', dealer_name: 'd', dealer_email: 'e', bid_amount: '100' } });
      // @ts-expect-error dealer_email is required
      void client.POST('/api/bids/create', { body: { car_id: 'c', dealer_name: 'd', bid_amount: 100 } });
      // @ts-expect-error the path parameter is required
      void client.GET('/api/cars/{car_id}', {});
      // @ts-expect-error not a car status
      void client.GET('/api/cars', { params: { query: { status: 'archived' } } });
    };
    expect(typeof typeErrors).toBe('function');
  });
});

describe('dealer flow through the typed client', () => {
  const dealerEmail = 'sala@bilaland.is';
  let car: Car;

  it('completes: company check → register → list cars → favourite → bid → own bids → dashboard', async () => {
    // A seller's car on the market to bid on (the fresh database has none).
    const listed = ok(
      await kaggi.POST('/api/cars/register', {
        body: {
          firstName: 'Guðrún',
          lastName: 'Sigurðardóttir',
          email: 'gudrun@example.is',
          phone: '660 1234',
          postalCode: '600',
          carMake: 'BMW',
          carModel: '320i',
          carPlate: 'HVF23',
          year: 2020,
          mileage: 56000,
        },
      }),
      201,
    );

    // 1. The sign-up form checks the company's kennitala (sandbox registry).
    const company = ok(await kaggi.POST('/api/validate-company', { body: { kennitala: '410215-3060' } }), 200);
    expect(company).toMatchObject({ success: true, valid: true, company_name: 'Bílaland ehf.', kennitala: '4102153060' });

    // 2. Register the dealer.
    const registered = ok(
      await kaggi.POST('/api/dealers/register', {
        body: {
          firstName: 'Sigríður',
          surname: 'Pálsdóttir',
          organizationNumber: '4102153060',
          dealerName: 'Bílaland',
          mobileNumber: '612 3456',
          streetAddress: 'Fosshálsi 1',
          postalCode: '110',
          city: 'Reykjavík',
          email: dealerEmail,
        },
      }),
      201,
    );
    expect(registered.data.dealer).toMatchObject({
      organization_number: '4102153060',
      company_name: 'Bílaland ehf.',
      mobile_number: '+3546123456',
      email: dealerEmail,
    });

    // 3. Browse the active cars.
    const cars = ok(await kaggi.GET('/api/cars', { params: { query: { status: 'active', limit: 50 } } }), 200);
    const found = cars.cars.find((c) => c.id === listed.car_id);
    expect(found).toBeDefined();
    car = found!;
    expect(car).toMatchObject({ car_plate: 'HVF23', status: 'active', highest_bid: null, bid_count: 0 });

    // 4. Mark it as a favourite.
    const favourite = ok(await kaggi.POST('/api/favorites/add', { body: { car_id: car.id, dealer_email: dealerEmail } }), 201);
    expect(favourite.favorite).toMatchObject({ car_id: car.id, dealer_email: dealerEmail });
    const favourites = ok(await kaggi.GET('/api/favorites/{dealer_email}', { params: { path: { dealer_email: dealerEmail } } }), 200);
    expect(favourites.favorites.map((f) => f.id)).toEqual([car.id]);

    // 5. Bid on it.
    const bid = ok(
      await kaggi.POST('/api/bids/create', {
        body: { car_id: car.id, dealer_name: 'Bílaland ehf.', dealer_email: dealerEmail, bid_amount: 2_450_000 },
      }),
      201,
    );
    expect(bid.bid).toMatchObject({ car_id: car.id, dealer_email: dealerEmail, bid_amount: 2_450_000 });
    const tooLow = await kaggi.POST('/api/bids/create', {
      body: { car_id: car.id, dealer_name: 'Bílaland ehf.', dealer_email: dealerEmail, bid_amount: 2_000_000 },
    });
    expect(tooLow.response.status).toBe(409);
    expect(tooLow.error).toMatchObject({ success: false, error: 'bid_too_low' });
    expect((tooLow.error as { min_next_bid?: unknown }).min_next_bid).toBeGreaterThan(2_450_000);

    // 6. The dealer's own bids, each with its car.
    const mine = ok(await kaggi.GET('/api/bids/dealer/{dealer_email}', { params: { path: { dealer_email: dealerEmail } } }), 200);
    expect(mine.count).toBe(1);
    expect(mine.bids[0]).toMatchObject({
      id: bid.bid_id,
      bid_amount: 2_450_000,
      car: { id: car.id, car_make: 'BMW', car_model: '320i', car_plate: 'HVF23', year: 2020, status: 'active' },
    });
    const onCar = ok(await kaggi.GET('/api/bids/car/{car_id}', { params: { path: { car_id: car.id } } }), 200);
    expect(onCar.bids.map((b) => b.id)).toEqual([bid.bid_id]);
    const refreshed = ok(await kaggi.GET('/api/cars/{car_id}', { params: { path: { car_id: car.id } } }), 200);
    expect(refreshed.car).toMatchObject({ highest_bid: 2_450_000, bid_count: 1 });

    // 7. The dashboard reflects it.
    const stats = ok(await kaggi.GET('/api/dashboard/stats/{dealer_email}', { params: { path: { dealer_email: dealerEmail } } }), 200);
    expect(stats.stats).toMatchObject({ my_bids: 1, favorites: 1, my_purchases: 0 });
    expect(stats.stats.active_auctions).toBeGreaterThanOrEqual(1);

    // 8. A search finds it by make, region and price, ending soonest first; the facets count it.
    const query = { make: ['bmw', 'Audi'], region: 'northeast' as const, price_min: 2_000_000, sort: 'ending_soon' as const };
    const search = ok(await kaggi.GET('/api/cars', { params: { query } }), 200);
    expect(search.cars.map((c) => c.id)).toEqual([car.id]);
    const none = ok(await kaggi.GET('/api/cars', { params: { query: { ...query, region: 'capital' } } }), 200);
    expect(none.cars).toEqual([]);
    const facets = ok(await kaggi.GET('/api/cars/facets', { params: { query: { region: 'northeast' } } }), 200);
    expect(facets.total).toBe(1);
    expect(facets.facets.make).toEqual([{ value: 'BMW', count: 1 }]);

    // 9. The dealer keeps that search (with their own token: saved searches are a person's), lists it, deletes it.
    const dealerId = await insertDealer(app, 'leitir@bilaland.is');
    const { token } = await dealerTokens(app.config, app.logger).issue(dealerId);
    const dealer = createKaggiClient(`${app.url}/`, { token, middleware: [checked.middleware] });
    const { sort: _sort, ...filters } = query;
    const saved = ok(await dealer.POST('/api/dealer/searches', { body: { name: 'BMW fyrir norðan', filters, alert: 'instant' } }), 201);
    const kept: SavedSearch = saved.search;
    expect(kept).toMatchObject({ name: 'BMW fyrir norðan', filters: { make: ['Audi', 'bmw'], region: 'northeast', price_min: 2_000_000 } });
    expect(ok(await dealer.GET('/api/dealer/searches'), 200).searches.map((s) => s.id)).toEqual([kept.id]);
    const deleted = await dealer.DELETE('/api/dealer/searches/{search_id}', { params: { path: { search_id: kept.id } } });
    expect(deleted.response.status).toBe(204);
    expect(ok(await dealer.GET('/api/dealer/searches'), 200).count).toBe(0);
    const anonymous = await kaggi.GET('/api/dealer/searches');
    expect([anonymous.response.status, anonymous.error?.error]).toEqual([401, 'unauthorized']);
  });
});

describe('seller flow through the typed client', () => {
  const phone = '+3547771234';

  it('completes: plate lookup → register car → welcome e-mail → SMS code → verify code', async () => {
    // 1. Look the car up by plate (sandbox registry).
    const vehicle = ok(await kaggi.POST('/api/vehicle/verify', { body: { plate: 'AB123', mileage: 84000 } }), 200);
    expect(vehicle.success).toBe(true);
    if (!vehicle.success) throw new Error('unreachable');
    expect(vehicle).toMatchObject({
      source: 'sandbox',
      data: { registrationNumber: 'AB123', make: 'Toyota', model: 'Yaris', year: 2018, mileage: 84000 },
    });

    // 2. Register it, camelCase as the frontend sends it.
    const registered = ok(
      await kaggi.POST('/api/cars/register', {
        body: {
          firstName: 'Jón',
          lastName: 'Jónsson',
          email: 'Jon@Example.IS',
          phone: '777 1234',
          postalCode: '101',
          carMake: vehicle.data.make,
          carModel: vehicle.data.model,
          carPlate: 'ab 123',
          year: String(vehicle.data.year),
          mileage: '84000',
        },
      }),
      201,
    );
    expect(registered.car).toMatchObject({
      id: registered.car_id,
      seller_name: 'Jón Jónsson',
      email: 'jon@example.is',
      car_plate: 'AB123',
      year: 2018,
      mileage: 84000,
      status: 'active',
      highest_bid: null,
    });
    expect(registered.car).not.toHaveProperty('phone');
    const again = await kaggi.POST('/api/cars/register', {
      body: {
        firstName: 'Jón',
        lastName: 'Jónsson',
        email: 'jon@example.is',
        phone: '7771234',
        postalCode: '101',
        carMake: 'Toyota',
        carModel: 'Yaris',
        carPlate: 'AB123',
        year: 2018,
        mileage: 84000,
      },
    });
    expect(again.response.status).toBe(409);
    expect(again.error?.error).toBe('plate_already_registered');

    // 3. Welcome e-mail (Brevo sandbox: nothing leaves the machine).
    const mail = ok(
      await kaggi.POST('/api/send-welcome-email', { body: { name: 'Jón Jónsson', email: 'jon@example.is', phone: '777 1234' } }),
      200,
    );
    expect(mail).toMatchObject({ success: true, sandbox: true });

    // 4. Verification code by SMS, through the fake Twilio.
    const info = ok(await kaggi.GET('/api/sms-service-info'), 200);
    expect(info).toMatchObject({ provider: 'twilio_messaging', configured: true, code_length: 6, sandbox: false });
    twilio.requests.length = 0;
    const sent = ok(await kaggi.POST('/api/send-verification-code', { body: { phone_number: '777 1234' } }), 200);
    expect(sent).toMatchObject({ success: true, status: 'pending', sandbox: false });
    const sms = twilio.requests.filter((r) => r.path === `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
    expect(sms).toHaveLength(1);
    const form = sms[0].body as Record<string, string>;
    expect(form).toMatchObject({ To: phone, From: TWILIO_FROM });
    const code = /\b(\d{6})\b/.exec(form.Body ?? '')?.[1];
    expect(code, `no 6-digit code in the SMS body: ${form.Body}`).toMatch(/^\d{6}$/);

    // 5. A wrong code is 200 valid:false; the code from the SMS verifies the phone.
    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const wrong = ok(await kaggi.POST('/api/verify-code', { body: { phone, code: wrongCode } }), 200);
    expect(wrong).toMatchObject({ success: true, valid: false });
    const right = ok(await kaggi.POST('/api/verify-code', { body: { phone, code: code! } }), 200);
    expect(right).toMatchObject({ success: true, valid: true });
  });
});

describe('seller’s page through the typed client', () => {
  it('completes: login → code by SMS → verify → my page → withdraw, and keeps the token to its routes', async () => {
    const registered = ok(
      await kaggi.POST('/api/cars/register', {
        body: {
          firstName: 'Anna',
          lastName: 'Jónsdóttir',
          email: 'anna@example.is',
          phone: '771 5555',
          postalCode: '105',
          carMake: 'Kia',
          carModel: 'Ceed',
          carPlate: 'GOP41',
          year: 2021,
          mileage: 30000,
        },
      }),
      201,
    );
    twilio.requests.length = 0;
    const login = ok(await kaggi.POST('/api/seller/login', { body: { car_plate: 'gop 41', email: 'Anna@Example.is' } }), 202);
    expect(login.success).toBe(true);
    // Brevo runs in its sandbox here; the code also goes by SMS to the car's phone (the fake Twilio).
    let code: string | undefined;
    for (let i = 0; i < 100 && !code; i += 1) {
      const sms = twilio.requests.find((r) => (r.body as Record<string, string>).To === '+3547715555');
      code = /\b(\d{6})\b/.exec((sms?.body as Record<string, string> | undefined)?.Body ?? '')?.[1];
      if (!code) await new Promise((r) => setTimeout(r, 100));
    }
    expect(code).toMatch(/^\d{6}$/);
    const session = ok(
      await kaggi.POST('/api/seller/verify', { body: { car_plate: 'GOP41', email: 'anna@example.is', code: code! } }),
      200,
    );
    expect(session.car_id).toBe(registered.car_id);

    const checked = specChecked();
    const seller = createKaggiClient(`${app.url}/`, { token: session.token, middleware: [checked.middleware] });
    const page = ok(await seller.GET('/api/seller/car'), 200);
    expect(page.car).toMatchObject({ id: registered.car_id, status: 'active', decision_due_at: null });
    expect(page.timeline.map((t) => t.status)).toEqual(['active']);
    const withdrawn = ok(await seller.POST('/api/seller/car/withdraw', { body: { reason: 'Hætt við' } }), 200);
    expect(withdrawn.car.status).toBe('withdrawn');
    const again = await seller.POST('/api/seller/car/decline', { headers: { 'Idempotency-Key': 'decline-1' } });
    expect(again.response.status).toBe(409);
    expect(again.error?.error).toBe('car_not_closed');
    expect(checked.seen.map((s) => s.operationId)).toEqual(['getSellerCar', 'sellerWithdraw', 'sellerDecline']);

    const anonymous = await kaggi.GET('/api/seller/car');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error?.error).toBe('unauthorized');
  });
});

describe('spec validation of the client', () => {
  it('checked the responses of the flows against openapi.yaml', () => {
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.operationId, `${s.method} ${s.path}`).not.toBeNull();
  });

  it('rejects a response openapi.yaml does not describe', async () => {
    const checked = specChecked();
    const client = createKaggiClient('http://kaggi.invalid', {
      middleware: [checked.middleware],
      fetch: async () =>
        new Response(JSON.stringify({ success: true, cars: 'not a list' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
    });
    await expect(client.GET('/api/cars')).rejects.toThrow(/listCars 200: response does not match openapi.yaml/);
    const teapot = createKaggiClient('http://kaggi.invalid', {
      middleware: [checked.middleware],
      fetch: async () => new Response('{}', { status: 418, headers: { 'content-type': 'application/json' } }),
    });
    await expect(teapot.GET('/health')).rejects.toThrow(/status 418 is not declared/);
  });
});
