import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import type { TestApp } from '../helpers/app.js';
import type { Fake } from '../fakes/fake-server.js';
import { BREVO_KEY, type BrevoMode } from '../fakes/brevo.js';
import { codeFromEmail, mailsTo } from '../api/seller-helpers.js';

export const DEALER_SECRET = 'dealer-secret-for-tests-0123456789abcdef';
export const SELLER_SECRET = 'seller-secret-for-dealer-tests-0123456789';
export const SUPABASE_SECRET = 'supabase-secret-for-dealer-tests-0123456';
export const ADMIN_KEY = 'admin-key-for-dealer-tests-0123456789';

/** Brevo pointed at the fake, fixed token secrets and an admin key. */
export function dealerEnv(brevo: Fake<BrevoMode>, extra: Record<string, string> = {}) {
  return {
    BREVO_API_KEY: BREVO_KEY,
    BREVO_API_BASE: brevo.url,
    BREVO_SENDER_EMAIL: 'kaggi@kaggi.is',
    BREVO_TIMEOUT_MS: '2000',
    DEALER_TOKEN_SECRET: DEALER_SECRET,
    SELLER_TOKEN_SECRET: SELLER_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    ...extra,
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
export const admin = { 'X-Admin-Key': ADMIN_KEY };

/** Login → the code from the fake Brevo → verify: the dealer's token. */
export async function dealerSignIn(app: TestApp, brevo: Fake<BrevoMode>, email: string): Promise<string> {
  const before = mailsTo(brevo, email.trim().toLowerCase()).length;
  const login = await app.request('POST', '/api/dealer/login', { body: { email } });
  expect(login.status).toBe(202);
  const code = await codeFromEmail(brevo, email.trim().toLowerCase(), before + 1);
  const verified = await app.request('POST', '/api/dealer/verify', { body: { email, code } });
  expect(verified.status, verified.text).toBe(200);
  return verified.body.token;
}

const MAKES: [string, string][] = [
  ['Toyota', 'Yaris'],
  ['Toyota', 'RAV4'],
  ['Kia', 'Niro'],
  ['Tesla', 'Model 3'],
  ['Skoda', 'Octavia'],
  ['Volvo', 'XC60'],
];
const FUELS = ['Bensín', 'Dísil', 'Rafmagn', null];
const POSTAL = ['101', '200', '230', '300', '400', '550', '600', '700', '800', '380'];
const STATUSES = ['active', 'active', 'active', 'sold', 'closed', 'pending', 'expired', 'unconfirmed'];

/**
 * `n` cars of a small market for the search tests (and the alerts' matcher): six models, four
 * fuels (one missing), ten postal codes over the regions, statuses listed and not, bids (and a
 * set-aside one that must not count), photos, inspections and round ends spread so that every
 * filter and sort has cars on both sides. `prefix` keeps each file's plates and e-mails apart.
 */
export async function seedMarket(app: TestApp, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const [make, model] = MAKES[i % MAKES.length];
    const car = await registerCar(app, {
      carMake: make,
      carModel: model,
      carPlate: nextPlate(prefix),
      year: 2005 + ((i * 7) % 20),
      mileage: (i * 37_000) % 300_000,
      postalCode: POSTAL[i % POSTAL.length],
    });
    if (i % 3 === 0) {
      // bids while it is active (and a set-aside one that must not count)
      for (const amount of [400_000, 500_000 + i * 10_000]) {
        const res = await app.request('POST', '/api/bids/create', {
          body: {
            car_id: car.id,
            dealer_name: 'Bílaland',
            dealer_email: `${prefix.toLowerCase()}${i}-${amount}@bilaland.is`,
            bid_amount: amount,
          },
        });
        expect(res.status, res.text).toBe(201);
      }
    }
    if (i % 9 === 0) {
      await app.sql.query(
        `INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, set_aside) VALUES ($1, 'Gone', 'gone@x.is', 99000000, true)`,
        [car.id],
      );
    }
    if (i % 4 === 1) {
      await app.sql.query(`INSERT INTO car_photos (id, car_id, position, kind, width, height) VALUES ($1, $2, 1, 'exterior', 800, 600)`, [
        randomUUID(),
        car.id,
      ]);
    }
    if (i % 5 === 2) {
      await app.sql.query(
        `INSERT INTO car_inspections (car_id, inspector, inspected_at, odometer_km, overall_grade) VALUES ($1, 'Skoðun', now(), 1000, 4)`,
        [car.id],
      );
    }
    const status = STATUSES[i % STATUSES.length];
    await app.sql.query(
      `UPDATE "Bílar" SET fuel = $2, transmission = $3, vehicle_checked_at = now(), status = $4,
         auction_ends_at = CASE WHEN $4 = 'active' THEN now() + make_interval(hours => $5) ELSE auction_ends_at END
       WHERE id = $1`,
      [car.id, FUELS[i % FUELS.length], i % 2 ? 'automatic' : i % 5 ? 'manual' : null, status, 1 + ((i * 13) % 90)],
    );
  }
}
