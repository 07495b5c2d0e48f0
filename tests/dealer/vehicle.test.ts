import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { camelCar, insertDealer } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { creditinfoEnv, startFakeCreditinfo, type CreditinfoFake } from '../fakes/creditinfo.js';
import type { Fake } from '../fakes/fake-server.js';
import { signIn } from '../api/seller-helpers.js';
import { fillVehicleSpecs } from '../../src/auctions/vehicle-lookups.js';
import { createServices } from '../../src/integrations/index.js';
import { SUPABASE_SECRET, admin, bearer, dealerEnv, dealerSignIn } from './helpers.js';

/** The vehicle's specification from the registry at registration (or later), and the seller's declarations. */

let brevo: Fake<BrevoMode>;
let registry: CreditinfoFake;
let app: TestApp;

beforeAll(async () => {
  brevo = await startFakeBrevo();
  registry = await startFakeCreditinfo();
  app = await startTestApp(
    dealerEnv(brevo, {
      AUTH_MODE: 'jwt',
      SUPABASE_JWT_SECRET: SUPABASE_SECRET,
      ...creditinfoEnv(registry.url),
      CREDITINFO_TIMEOUT_MS: '1000',
    }),
  );
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
  await registry?.close();
});

const declarations = {
  damage: 'Rispa á afturstuðara',
  repairs: null,
  ownership: 'estate',
  ownership_details: 'Dánarbú Jóns Jónssonar',
};

async function register(plate: string, extra: Record<string, unknown> = {}) {
  const res = await app.request('POST', '/api/cars/register', { body: camelCar({ carPlate: plate, ...extra }) });
  expect(res.status, res.text).toBe(201);
  return res.body.car;
}

describe('the vehicle specification', () => {
  it('is looked up at registration and stored with what the seller adds', async () => {
    registry.behave('ok');
    const car = await register('AB123', {
      vehicle: { transmission: 'automatic', drivetrain: 'fwd', equipment: ['Dráttarkrókur', ' ', 'Dráttarkrókur', 'Leðursæti'] },
    });
    const expected = {
      vin: 'VNKKTUD3X0A123456',
      fuel: 'Bensín',
      engine_size: 1496,
      color: 'Hvítur',
      first_registration: '2018-05-14',
      transmission: 'automatic',
      drivetrain: 'fwd',
      equipment: ['Dráttarkrókur', 'Leðursæti'],
    };
    expect(car.vehicle).toEqual(expected);
    expect((await app.request('GET', `/api/cars/${car.id}`)).body.car.vehicle).toEqual(expected);
  });

  it('a plate the registry does not know: registered with the seller’s part only, nothing invented', async () => {
    const car = await register('ZZ999', { vehicle: { transmission: 'manual' } });
    expect(car.vehicle).toEqual({
      vin: null,
      fuel: null,
      engine_size: null,
      color: null,
      first_registration: null,
      transmission: 'manual',
      drivetrain: null,
      equipment: [],
    });
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM vehicle_lookups WHERE car_id = $1', [car.id]);
    expect(rows[0].n).toBe(0);
  });

  it('registry down: registers with vehicle null, then the job fills it in once, with backoff, with two workers', async () => {
    registry.behave('error500');
    const car = await register('XY987', { vehicle: { drivetrain: 'awd' } });
    expect(car.vehicle).toBeNull();
    const services = createServices(app.config, app.logger);
    const worker = { db: app.db, creditinfo: services.creditinfo, logger: app.logger };

    // still down: the lookup waits about a minute, then longer
    expect(await fillVehicleSpecs(worker)).toEqual({ filled: 0, retrying: 1 });
    let { rows } = await app.sql.query(
      `SELECT attempts, extract(epoch FROM due_at - now())::int AS wait FROM vehicle_lookups WHERE car_id = $1`,
      [car.id],
    );
    expect(rows[0].attempts).toBe(1);
    expect(rows[0].wait).toBeGreaterThanOrEqual(55);
    expect(rows[0].wait).toBeLessThanOrEqual(60);
    expect(await fillVehicleSpecs(worker)).toEqual({ filled: 0, retrying: 0 }); // not due yet

    registry.behave('ok');
    await app.sql.query(`UPDATE vehicle_lookups SET due_at = now() - interval '1 second' WHERE car_id = $1`, [car.id]);
    const before = registry.vehicleRequests().length;
    const [a, b] = await Promise.all([fillVehicleSpecs(worker), fillVehicleSpecs(worker)]);
    expect(a.filled + b.filled).toBe(1);
    expect(registry.vehicleRequests().length - before).toBe(1);
    const shown = (await app.request('GET', `/api/cars/${car.id}`)).body.car;
    expect(shown.vehicle).toMatchObject({ fuel: 'Rafmagn', color: 'Rauður', first_registration: null, vin: null, drivetrain: 'awd' });
    ({ rows } = await app.sql.query('SELECT count(*)::int AS n FROM vehicle_lookups WHERE car_id = $1', [car.id]));
    expect(rows[0].n).toBe(0);
  });
});

describe('the seller’s declarations', () => {
  it('are shown to approved dealers, admins and the seller, null to anyone else', async () => {
    registry.behave('not_found');
    const plate = 'DC12345';
    const car = await register(plate, { email: 'erfingi@example.is', declarations });
    const stored = { ...declarations, other: null };
    // the registration's answer goes to the seller who just sent them, as their name and e-mail do
    expect(car.declarations).toEqual(stored);

    const anonymous = await app.request('GET', `/api/cars/${car.id}`);
    expect(anonymous.body.car.declarations).toBeNull();
    const list = await app.request('GET', '/api/cars');
    expect(list.body.cars.find((c: { id: string }) => c.id === car.id).declarations).toBeNull();

    expect((await app.request('GET', `/api/cars/${car.id}`, { headers: admin })).body.car.declarations).toEqual(stored);
    await insertDealer(app, 'samthykktur@bilar.is', 'approved');
    const approved = await dealerSignIn(app, brevo, 'samthykktur@bilar.is');
    expect((await app.request('GET', `/api/cars/${car.id}`, { headers: bearer(approved) })).body.car.declarations).toEqual(stored);
    await insertDealer(app, 'bidur2@bilar.is', 'pending');
    const pending = await dealerSignIn(app, brevo, 'bidur2@bilar.is');
    expect((await app.request('GET', `/api/cars/${car.id}`, { headers: bearer(pending) })).body.car.declarations).toBeNull();

    const seller = await signIn(app, brevo, plate, 'erfingi@example.is');
    expect((await app.request('GET', '/api/seller/car', { headers: bearer(seller) })).body.car.declarations).toEqual(stored);
  });

  it('refuses declarations without ownership, an unknown ownership, or text past its bound (422, nothing stored)', async () => {
    for (const bad of [{ damage: 'x' }, { ownership: 'stolen' }, { ownership: 'own', damage: 'x'.repeat(2001) }]) {
      const plate = `BD${Math.floor(Math.random() * 90000 + 10000)}`;
      const res = await app.request('POST', '/api/cars/register', { body: camelCar({ carPlate: plate, declarations: bad }) });
      expect(res.status).toBe(422);
      const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM "Bílar" WHERE car_plate = $1', [plate]);
      expect(rows[0].n).toBe(0);
    }
  });
});
