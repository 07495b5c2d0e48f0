import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count, nextPlate } from '../helpers/fixtures.js';
import { SANDBOX_COMPANIES } from '../../src/integrations/rsk.js';

let app: TestApp;
const ADMIN = 'admin-key-for-dealer-tests-0123456789';
beforeAll(async () => {
  app = await startTestApp({ ADMIN_API_KEY: ADMIN });
});
afterAll(async () => app?.close());

const companies = Object.entries(SANDBOX_COMPANIES).map(([kennitala, name]) => ({ kennitala, name }));
const [company, second, third] = companies;

const dealerBody = (overrides: Record<string, unknown> = {}) => ({
  firstName: 'Sigríður',
  surname: 'Pálsdóttir',
  organizationNumber: `${company.kennitala.slice(0, 6)}-${company.kennitala.slice(6)}`,
  dealerName: 'Bílaland',
  mobileNumber: '6123456',
  streetAddress: 'Fosshálsi 1',
  postalCode: '110',
  city: 'Reykjavík',
  email: 'Sigga@Bilaland.is',
  ...overrides,
});

describe('POST /api/dealers/register', () => {
  it('registers a dealer checked against the company registry, with a pending car', async () => {
    const plate = nextPlate('V');
    const res = await app.request('POST', '/api/dealers/register', {
      body: dealerBody({ vehicle: { registrationNumber: plate, make: 'Kia', model: 'Ceed', year: 2021, mileage: '23000' } }),
    });
    expect(res.status).toBe(201);
    expect(res.body.data.dealer).toMatchObject({
      organization_number: company.kennitala,
      company_name: company.name,
      mobile_number: '+3546123456',
      email: 'sigga@bilaland.is',
    });
    const { rows } = await app.sql.query('SELECT status, mileage, email, car_plate FROM "Bílar" WHERE id = $1', [res.body.data.car_id]);
    expect(rows[0]).toEqual({ status: 'pending', mileage: 23000, email: 'sigga@bilaland.is', car_plate: plate });
  });

  it('never invents an e-mail for the car of a dealer without one', async () => {
    const res = await app.request('POST', '/api/dealers/register', {
      body: dealerBody({
        organizationNumber: second.kennitala,
        email: undefined,
        vehicle: { registrationNumber: nextPlate('W'), make: 'Kia', model: 'Rio', year: 2015, mileage: 120000 },
      }),
    });
    expect(res.status).toBe(201);
    const { rows } = await app.sql.query('SELECT email FROM "Bílar" WHERE id = $1', [res.body.data.car_id]);
    expect(rows[0].email).toBeNull();
  });

  it('answers 409 for a registered e-mail, or a kennitala an approved dealer holds, and writes nothing', async () => {
    const before = await count(app, 'dealers');
    const sameEmail = await app.request('POST', '/api/dealers/register', { body: dealerBody() });
    expect([sameEmail.status, sameEmail.body.error]).toEqual([409, 'dealer_already_registered']);
    await app.sql.query(`UPDATE dealers SET status = 'approved' WHERE organization_number = $1`, [company.kennitala]);
    const res = await app.request('POST', '/api/dealers/register', { body: dealerBody({ email: 'new@bilaland.is' }) });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('dealer_already_registered');
    expect(await count(app, 'dealers')).toBe(before);
    await app.sql.query(`UPDATE dealers SET status = 'pending' WHERE organization_number = $1`, [company.kennitala]);
  });

  it('a pending registration of a kennitala blocks nobody: several wait, the admin list counts them, one can be approved', async () => {
    const first = await app.request('POST', '/api/dealers/register', { body: dealerBody({ email: 'squatter@example.is' }) });
    const second = await app.request('POST', '/api/dealers/register', { body: dealerBody({ email: 'real@bilaland.is' }) });
    expect([first.status, second.status]).toEqual([201, 201]);
    const admin = { 'X-Admin-Key': ADMIN };
    const list = await app.request('GET', '/api/admin/dealers?status=pending', { headers: admin });
    expect(list.status).toBe(200);
    const shared = list.body.dealers.filter((d: { organization_number: string }) => d.organization_number === company.kennitala);
    expect(shared.length).toBeGreaterThanOrEqual(2);
    for (const d of shared) expect(d.kennitala_registrations).toBe(shared.length);
    const approve = (id: string) => app.request('PUT', `/api/admin/dealers/${id}/status`, { headers: admin, body: { status: 'approved' } });
    expect((await approve(second.body.data.dealer.id)).status).toBe(200);
    const again = await approve(first.body.data.dealer.id);
    expect([again.status, again.body.error]).toEqual([409, 'kennitala_taken']);
    const third = await app.request('POST', '/api/dealers/register', { body: dealerBody({ email: 'late@example.is' }) });
    expect([third.status, third.body.error]).toEqual([409, 'dealer_already_registered']);
    await app.sql.query(`UPDATE dealers SET status = 'pending' WHERE organization_number = $1`, [company.kennitala]);
  });

  it('checks the kennitala: shape → 422 validation_failed, check digit → 422 invalid_kennitala', async () => {
    const shape = await app.request('POST', '/api/dealers/register', { body: dealerBody({ organizationNumber: '12345' }) });
    expect(shape.status).toBe(422);
    expect(shape.body.error).toBe('validation_failed');
    const digit = await app.request('POST', '/api/dealers/register', { body: dealerBody({ organizationNumber: '5902697189' }) });
    expect(digit.status).toBe(422);
    expect(digit.body.error).toBe('invalid_kennitala');
  });

  it('rolls back the dealer when the car plate is taken', async () => {
    const plate = nextPlate('X');
    const firstOk = await app.request('POST', '/api/cars/register', {
      body: {
        seller_name: 'Jón',
        email: 'jon@example.is',
        phone: '7777777',
        postal_code: '101',
        car_make: 'A',
        car_model: 'B',
        car_plate: plate,
        year: 2010,
        mileage: 1,
      },
    });
    expect(firstOk.status).toBe(201);
    const before = await count(app, 'dealers');
    const res = await app.request('POST', '/api/dealers/register', {
      body: dealerBody({
        organizationNumber: third.kennitala,
        email: 'third@dealer.is',
        vehicle: { registrationNumber: plate, make: 'Kia', model: 'Rio', year: 2015, mileage: 1 },
      }),
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('plate_already_registered');
    expect(await count(app, 'dealers')).toBe(before);
  });
});
