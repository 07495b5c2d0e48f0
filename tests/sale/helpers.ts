import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { insertDealer, nextPlate, registerCar } from '../helpers/fixtures.js';
import { supabaseHsToken } from '../helpers/tokens.js';
import type { Fake } from '../fakes/fake-server.js';
import type { BrevoMode } from '../fakes/brevo.js';
import type { TwilioMode } from '../fakes/twilio.js';
import { admin, bearer, closeNow, sellerEnv, signIn } from '../api/seller-helpers.js';

export const JWT_SECRET = 'supabase-secret-for-sale-tests-0123456789';
/** Two keys: `k2` seals, `k1` (an older one) still opens. */
export const KEY_OLD = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
export const KEY_NEW = `k2:${Buffer.alloc(32, 2).toString('base64')}`;
export const BACKOFFICE = 'bakvinnsla@kaggi.is';

export function saleEnv(brevo: Fake<BrevoMode>, twilio: Fake<TwilioMode>, extra: Record<string, string> = {}) {
  return sellerEnv(brevo, twilio, {
    AUTH_MODE: 'jwt',
    SUPABASE_JWT_SECRET: JWT_SECRET,
    DATA_ENCRYPTION_KEY: `${KEY_NEW},${KEY_OLD}`,
    BACKOFFICE_EMAIL: BACKOFFICE,
    RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR: '1000',
    RATE_LIMIT_SELLER_VERIFY_PER_IP_PER_15MIN: '1000',
    ...extra,
  });
}

export type Dealer = { email: string; token: string; headers: Record<string, string> };

let dealerCounter = 0;
/** An approved dealer with a Supabase token. */
export async function dealer(app: TestApp, name: string): Promise<Dealer> {
  dealerCounter += 1;
  const email = `${name}${dealerCounter}@${name}.is`;
  await insertDealer(app, email, 'approved');
  await app.sql.query(`UPDATE dealers SET company_name = $2 WHERE email = $1`, [email, `${name} ehf.`]);
  const token = await supabaseHsToken(JWT_SECRET, { email });
  return { email, token, headers: bearer(token) };
}

export async function bidAs(app: TestApp, d: Dealer, carId: string, amount: number) {
  const res = await app.request('POST', '/api/bids/create', {
    headers: d.headers,
    body: { car_id: carId, dealer_name: d.email.split('@')[0], dealer_email: d.email, bid_amount: amount },
  });
  expect(res.status, res.text).toBe(201);
}

/**
 * A car registered by a seller, bid on by `bids` (in order), closed, and accepted by its
 * seller: a sold car with an open sale. Answers the car's id and the seller's token.
 */
export async function soldCar(
  app: TestApp,
  brevo: Fake<BrevoMode>,
  bids: [Dealer, number][],
  seller: { email?: string; name?: string } = {},
): Promise<{ carId: string; plate: string; sellerToken: string }> {
  const plate = nextPlate('K');
  const email = seller.email ?? `seljandi.${plate.toLowerCase()}@example.is`;
  const car = await registerCar(app, {
    carPlate: plate,
    email,
    firstName: seller.name?.split(' ')[0] ?? 'Þórunn',
    lastName: seller.name?.split(' ').slice(1).join(' ') ?? 'Ásgeirsdóttir',
    phone: '777-7777',
  });
  for (const [d, amount] of bids) await bidAs(app, d, car.id, amount);
  await closeNow(app, car.id);
  const sellerToken = await signIn(app, brevo, plate, email);
  const accepted = await app.request('POST', '/api/seller/car/accept', { headers: bearer(sellerToken) });
  expect(accepted.status, accepted.text).toBe(200);
  return { carId: car.id, plate, sellerToken };
}

export const step = (app: TestApp, carId: string, s: string, note?: string) =>
  app.request('POST', `/api/admin/cars/${carId}/sale/steps`, { headers: admin, body: { step: s, ...(note ? { note } : {}) } });

export const VALID_DETAILS = { kennitala: '010130-3019', address: 'Þórsgata 1, 101 Reykjavík', bank_account: '0133-26-012345' };
