import type { TestApp } from './app.js';

let plateCounter = 0;
/** Unique, valid plates so tests never collide within one database. */
export function nextPlate(prefix = 'T'): string {
  plateCounter += 1;
  return `${prefix}${String(plateCounter).padStart(5, '0')}`.slice(0, 8);
}

export const camelCar = (overrides: Record<string, unknown> = {}) => ({
  firstName: 'Jón',
  lastName: 'Jónsson',
  email: 'Jon@Example.IS',
  phone: '777-7777',
  postalCode: '101',
  carMake: 'Toyota',
  carModel: 'Yaris',
  carPlate: nextPlate(),
  year: 2018,
  mileage: 84000,
  ...overrides,
});

export const snakeCar = (overrides: Record<string, unknown> = {}) => ({
  seller_name: 'Guðrún Sigurðardóttir',
  email: 'gudrun@example.is',
  phone: '+354 888 8888',
  postal_code: '200',
  car_make: 'Volkswagen',
  car_model: 'Golf',
  car_plate: nextPlate('S'),
  year: 2019,
  mileage: 61000,
  ...overrides,
});

export async function registerCar(app: TestApp, overrides: Record<string, unknown> = {}): Promise<{ id: string; car_plate: string }> {
  const res = await app.request('POST', '/api/cars/register', { body: camelCar(overrides) });
  if (res.status !== 201) throw new Error(`car registration failed: ${res.status} ${res.text}`);
  return res.body.car;
}

export async function setStatus(app: TestApp, carId: string, status: string): Promise<void> {
  const res = await app.request('PUT', `/api/cars/${carId}/status`, { body: { status } });
  if (res.status !== 200) throw new Error(`status change failed: ${res.status} ${res.text}`);
}

export async function placeBid(app: TestApp, carId: string, amount: number, dealer = 'sala@bilaland.is') {
  return app.request('POST', '/api/bids/create', {
    body: { car_id: carId, dealer_name: 'Bílaland ehf.', dealer_email: dealer, bid_amount: amount },
  });
}

export async function count(app: TestApp, table: string): Promise<number> {
  const { rows } = await app.sql.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

let orgCounter = 0;
/** A dealer row with the given approval status (straight into the database: registration needs the company registry). */
export async function insertDealer(
  app: TestApp,
  email: string,
  status: 'pending' | 'approved' | 'suspended' = 'approved',
): Promise<string> {
  orgCounter += 1;
  const { rows } = await app.sql.query(
    `INSERT INTO dealers (first_name, surname, organization_number, dealer_name, mobile_number, street_address, postal_code, city, email, status)
     VALUES ('Test', 'Dealer', $1, $2, $5, 'Bíldshöfði 10', '110', 'Reykjavík', $3, $4) RETURNING id`,
    [
      String(process.pid % 1000).padStart(3, '0') + String(orgCounter).padStart(7, '0'),
      `Dealer ${email}`,
      email,
      status,
      // a number of its own: a dealer whose mobile is a car's phone is that car's seller (own_car)
      `+3548${String(orgCounter).padStart(6, '0')}`,
    ],
  );
  return rows[0].id;
}
