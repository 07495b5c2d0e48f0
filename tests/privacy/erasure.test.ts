import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import { supabaseHsToken } from '../helpers/tokens.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { flushOutbox } from '../../src/auctions/outbox.js';
import { createBrevo } from '../../src/integrations/brevo.js';
import { EXPORT_SECTIONS } from '../../src/domain/personal-data.js';
import { ADMIN_KEY, admin, bearer, closeNow, sellerEnv, signIn } from '../api/seller-helpers.js';
import { createKaggiClient } from '../../client/index.js';
import { assertMatchesSpec } from '../helpers/contract.js';
import { jpegWithGps, photoPart, upload } from '../photos/helpers.js';
import { searchEverywhere, searchStoredObjects } from './helpers.js';

const SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const dealerToken = async (email: string) => bearer(await supabaseHsToken(SECRET, { email, sub: `sub-${email}` }));

let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
let app: TestApp;
let mediaDir: string;
const lines: string[] = [];
beforeAll(async () => {
  mediaDir = await mkdtemp(path.join(tmpdir(), 'kaggi-privacy-media-'));
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
  app = await startTestApp(
    sellerEnv(brevo, twilio, {
      AUTH_MODE: 'jwt',
      SUPABASE_JWT_SECRET: SECRET,
      RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR: '1000',
      RATE_LIMIT_SELLER_VERIFY_PER_IP_PER_15MIN: '1000',
      STORAGE_DRIVER: 'disk',
      MEDIA_DIR: mediaDir,
    }),
    { logLines: lines },
  );
});
afterAll(async () => {
  if (process.env.DEBUG_LINES) console.log(lines.filter((l) => /error|warn|status change|refused/i.test(l)).join(''));
  await app?.close();
  await brevo?.close();
  await twilio?.close();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

let mobiles = 0;
/** An approved dealer of its own name, e-mail and mobile. */
async function dealer(first: string, last: string, email: string): Promise<{ id: string; mobile: string }> {
  mobiles += 1;
  const mobile = `+354690${String(mobiles).padStart(4, '0')}`;
  const { rows } = await app.sql.query(
    `INSERT INTO dealers (first_name, surname, organization_number, dealer_name, company_name, mobile_number, street_address, postal_code, city, email, status)
     VALUES ($1, $2, $3, 'Bílasalan', 'Bílasalan ehf.', $4, 'Bíldshöfði 10', '110', 'Reykjavík', $5, 'approved') RETURNING id`,
    [first, last, `59${String(Date.now()).slice(-5)}${String(mobiles).padStart(3, '0')}`, mobile, email],
  );
  return { id: rows[0].id, mobile };
}

const placeBid = async (carId: string, email: string, name: string, amount: number) =>
  app.request('POST', '/api/bids/create', {
    headers: await dealerToken(email),
    body: { car_id: carId, dealer_name: name, dealer_email: email, bid_amount: amount },
  });

/** One outbox pass, as the worker runs it, through a Brevo client built as start-up builds it. */
const flush = () => flushOutbox({ db: app.db, brevo: createBrevo(app.config, app.logger), config: app.config, logger: app.logger });

describe('a seller erases their data', () => {
  const email = 'sigridur.privacy@example.is';
  const phone = '+3546110001';
  const name = 'Sigríður Persónudóttir';

  it('exports every section, is blocked while a round runs, then erases all but the sold car’s contract party', async () => {
    const rival = await dealer('Rúnar', 'Bjóðandi', 'runar.bidder@example.is');
    const person = {
      firstName: 'Sigríður',
      lastName: 'Persónudóttir',
      email,
      phone: '611-0001',
      postalCode: '107',
      consent: { terms_version: '2025-11', newsletter: true },
    };
    const unsold = await registerCar(app, { ...person, carPlate: nextPlate('PU') });
    const sold = await registerCar(app, { ...person, carPlate: nextPlate('PS') });
    expect((await placeBid(unsold.id, 'runar.bidder@example.is', 'Rúnar Bjóðandi', 500_000)).status).toBe(201);
    expect((await placeBid(sold.id, 'runar.bidder@example.is', 'Rúnar Bjóðandi', 900_000)).status).toBe(201);

    const token = await signIn(app, brevo, sold.car_plate, email);
    const unsoldToken = await signIn(app, brevo, unsold.car_plate, email);
    // A photo of each car, uploaded by the seller, each caption naming them (free text).
    const photoOf = async (carId: string, sellerToken: string) => {
      const res = await upload(
        app,
        `/api/cars/${carId}/photos`,
        [photoPart(await jpegWithGps(400, 300)), { name: 'caption', value: `Hringið í ${name}, ${phone}` }],
        bearer(sellerToken),
      );
      expect(res.status, res.text).toBe(201);
      return res.body.photo as { id: string; urls: Record<string, string> };
    };
    const photos = [await photoOf(unsold.id, unsoldToken), await photoOf(sold.id, token)];
    const ofThesePhotos = (keys: string[]) => keys.filter((k) => photos.some((p) => k.startsWith(`photos/${p.id}/`)));
    expect(ofThesePhotos((await searchStoredObjects(mediaDir, [])).keys)).toHaveLength(8);

    // The sold car: closed and accepted by its seller (e-mails to both sides queued and sent).
    await closeNow(app, sold.id);
    expect((await app.request('POST', '/api/seller/car/accept', { headers: bearer(token) })).status).toBe(200);
    await flush();

    const exported = await app.request('GET', '/api/seller/data-export', { headers: bearer(token) });
    expect(exported.status).toBe(200);
    expect(Object.keys(exported.body.sections).sort()).toEqual([...EXPORT_SECTIONS].sort());
    const { sections } = exported.body;
    expect(sections.cars.map((c: { id: string }) => c.id).sort()).toEqual([unsold.id, sold.id].sort());
    expect(sections.cars[0]).toMatchObject({ seller_name: name, email, phone, postal_code: '107' });
    // Bids received: amounts and times, never the bidder.
    expect(sections.bids_received).toHaveLength(2);
    expect(JSON.stringify(sections.bids_received)).not.toContain('runar');
    expect(sections.sign_in.length).toBeGreaterThanOrEqual(1);
    expect(sections.consents).toHaveLength(2);
    expect(sections.consents[0]).toMatchObject({ terms_version: '2025-11', newsletter: true, source: 'car_registration' });
    expect(sections.emails.some((e: { kind: string; subject: string }) => e.kind === 'sale_confirmed' && e.subject)).toBe(true);
    // Photos: each with its caption and the URLs it is served at, as the car's gallery shows them.
    expect(sections.photos).toHaveLength(2);
    for (const photo of photos) {
      expect(sections.photos.find((p: { id: string }) => p.id === photo.id)).toMatchObject({
        caption: `Hringið í ${name}, ${phone}`,
        urls: photo.urls,
      });
    }

    // The unsold car is still in its round: blocked, nothing changed.
    const blocked = await app.request('POST', '/api/seller/erasure', { headers: bearer(token) });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error).toBe('erasure_blocked');
    expect((await app.sql.query('SELECT email FROM "Bílar" WHERE id = $1', [unsold.id])).rows[0].email).toBe(email);

    // The seller withdraws the running car (its token is for the sold one: both are the same seller's, same e-mail).
    expect((await app.request('POST', '/api/seller/car/withdraw', { headers: bearer(unsoldToken) })).status).toBe(200);
    // The sold car's sale is still being carried through: blocked until the back office completes it.
    const saleOpen = await app.request('POST', '/api/seller/erasure', { headers: bearer(token) });
    expect([saleOpen.status, saleOpen.body.error]).toEqual([409, 'erasure_blocked']);
    for (const step of ['contract_signed', 'buyer_paid', 'picked_up', 'ownership_transferred', 'seller_paid']) {
      const recorded = await app.request('POST', `/api/admin/cars/${sold.id}/sale/steps`, { headers: admin, body: { step } });
      expect(recorded.status, recorded.text).toBe(200);
    }
    const erased = await app.request('POST', '/api/seller/erasure', { headers: bearer(token) });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.body).toMatchObject({ erased: true, legal_hold: [`car:${sold.id}`] });
    await flush();
    // Off the newsletter list, through the outbox; the row that named the contact is gone with it.
    expect(brevo.requests.some((r) => r.path === '/contacts/lists/3/contacts/remove' && JSON.stringify(r.body).includes(email))).toBe(true);

    // Every table, and the outbox in it: only the sold car's row, under legal hold, still names the seller.
    const { searched, hits } = await searchEverywhere(app, [email, phone, name]);
    expect(searched).toEqual(
      expect.arrayContaining(['public.Bílar', 'public.email_outbox', 'public.consents', 'public.audit_log', 'public.car_photos']),
    );
    expect(hits.filter((h) => !h.held)).toEqual([]);
    expect(hits.map((h) => h.table)).toEqual(['public.Bílar']);
    expect(hits[0].row).toContain(name);
    expect(hits[0].row).not.toContain(email);
    expect(hits[0].row).not.toContain(phone);

    // Every stored object: the photos of both cars (sold or not) are gone from the store, and
    // no object left mentions the seller.
    const store = await searchStoredObjects(mediaDir, [email, phone, name]);
    expect(ofThesePhotos(store.keys)).toEqual([]);
    expect(store.hits).toEqual([]);
    for (const photo of photos) expect((await fetch(`${app.url}/media/photos/${photo.id}/full.webp`)).status).toBe(404);

    // The bids stay as they were: every dealer's history is true.
    const bids = await app.sql.query('SELECT dealer_email, bid_amount FROM "uppboð" WHERE car_id = ANY($1) ORDER BY bid_amount', [
      [unsold.id, sold.id],
    ]);
    expect(bids.rows).toEqual([
      { dealer_email: 'runar.bidder@example.is', bid_amount: 500_000 },
      { dealer_email: 'runar.bidder@example.is', bid_amount: 900_000 },
    ]);
    expect(rival.id).toBeTruthy();

    // The seller's sessions ended with the data; a repeat by the back office finds nothing.
    expect((await app.request('GET', '/api/seller/car', { headers: bearer(token) })).status).toBe(401);
    const again = await app.request('POST', '/api/admin/people/erasure', { headers: admin, body: { email } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ success: true, erased: false, subjects: [], rows: {}, legal_hold: [] });
  });
});

describe('a dealer erases their data', () => {
  const email = 'dora.dealer@example.is';
  const name = 'Dóra Söludóttir';

  it('is blocked while leading a round; then the account closes and every bid carries one pseudonym', async () => {
    const me = await dealer('Dóra', 'Söludóttir', email);
    await dealer('Hrafn', 'Keppinautur', 'hrafn.rival@example.is');
    const car = await registerCar(app, { carPlate: nextPlate('PD') });
    const other = await registerCar(app, { carPlate: nextPlate('PD') });
    expect((await placeBid(car.id, email, name, 400_000)).status).toBe(201);
    expect((await placeBid(other.id, email, name, 300_000)).status).toBe(201);
    const fav = await app.request('POST', '/api/favorites/add', {
      headers: await dealerToken(email),
      body: { car_id: car.id, dealer_email: email },
    });
    expect(fav.status).toBeLessThan(300);

    const exported = await app.request('GET', '/api/dealer/data-export', { headers: await dealerToken(email) });
    expect(exported.status).toBe(200);
    expect(exported.body.sections.dealer_account).toHaveLength(1);
    expect(exported.body.sections.bids_placed).toHaveLength(2);
    expect(exported.body.sections.favorites).toHaveLength(1);
    expect(exported.body.sections.cars).toEqual([]);

    const blocked = await app.request('POST', '/api/dealer/erasure', { headers: await dealerToken(email) });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error).toBe('erasure_blocked');

    // Outbid on both: nothing of the dealer's is running any more.
    expect((await placeBid(car.id, 'hrafn.rival@example.is', 'Hrafn Keppinautur', 500_000)).status).toBe(201);
    expect((await placeBid(other.id, 'hrafn.rival@example.is', 'Hrafn Keppinautur', 400_000)).status).toBe(201);
    await flush();

    const erased = await app.request('POST', '/api/dealer/erasure', { headers: await dealerToken(email) });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.body.subjects).toEqual([`dealer:${me.id}`]);
    await flush();

    const bids = await app.sql.query(
      `SELECT DISTINCT dealer_name, dealer_email FROM "uppboð" WHERE car_id = ANY($1) AND dealer_email <> 'hrafn.rival@example.is'`,
      [[car.id, other.id]],
    );
    expect(bids.rows).toHaveLength(1);
    expect(bids.rows[0].dealer_email).toMatch(/^dealer-[0-9a-f]{10}@erased\.invalid$/);
    expect(bids.rows[0].dealer_email).toBe(`${bids.rows[0].dealer_name}@erased.invalid`);

    const account = await app.sql.query(
      'SELECT organization_number, company_name, first_name, email, status, erased_at FROM dealers WHERE id = $1',
      [me.id],
    );
    expect(account.rows[0]).toMatchObject({ company_name: 'Bílasalan ehf.', first_name: '[erased]', email: null, status: 'suspended' });

    const { hits } = await searchEverywhere(app, [email, me.mobile, name]);
    expect(hits).toEqual([]);

    // The account is closed: the token is refused where a dealer acts; a repeat finds nothing.
    expect((await placeBid(car.id, email, name, 700_000)).status).toBe(403);
    const again = await app.request('POST', '/api/dealer/erasure', { headers: await dealerToken(email) });
    expect(again.body).toMatchObject({ erased: false, subjects: [] });
  });
});

describe('the back office', () => {
  it('exports and erases by phone, and every look is in the audit log without personal data', async () => {
    const phone = '+3546110099';
    const car = await registerCar(app, { firstName: 'Ásta', lastName: 'Símadóttir', email: 'asta.phone@example.is', phone: '611 0099' });
    const missing = await app.request('GET', '/api/admin/people/data-export', { headers: admin });
    expect(missing.status).toBe(422);
    const exported = await app.request('GET', `/api/admin/people/data-export?phone=${encodeURIComponent('611-0099')}`, { headers: admin });
    expect(exported.status).toBe(200);
    expect(exported.body.sections.cars.map((c: { id: string }) => c.id)).toEqual([car.id]);

    const blocked = await app.request('POST', '/api/admin/people/erasure', { headers: admin, body: { phone } });
    expect(blocked.status).toBe(409);
    expect((await app.request('PUT', `/api/cars/${car.id}/status`, { headers: admin, body: { status: 'pending' } })).status).toBe(200);
    const erased = await app.request('POST', '/api/admin/people/erasure', { headers: admin, body: { phone } });
    expect(erased.body).toMatchObject({ erased: true, subjects: [`car:${car.id}`] });

    const first = await app.request('GET', '/api/admin/audit?limit=1', { headers: admin });
    expect(first.status).toBe(200);
    expect(first.body.entries).toHaveLength(1);
    expect(first.body.entries[0]).toMatchObject({ actor: 'admin-key', action: 'erasure', subjects: [`car:${car.id}`] });
    const next = await app.request('GET', `/api/admin/audit?limit=100&cursor=${first.body.next_cursor}`, { headers: admin });
    expect(next.body.entries.map((e: { action: string }) => e.action)).toContain('data_export');
    const all = JSON.stringify([first.body, next.body]);
    expect(all).not.toMatch(/@|\+354|Ásta/);

    // A dealer's status changed with an admin token: on record under the token's subject.
    const changed = await dealer('Gunnar', 'Staða', 'gunnar.status@example.is');
    const adminToken = bearer(await supabaseHsToken(SECRET, { sub: 'boss-1', email: 'boss@kaggi.is', app_metadata: { role: 'admin' } }));
    const put = await app.request('PUT', `/api/admin/dealers/${changed.id}/status`, { headers: adminToken, body: { status: 'suspended' } });
    expect(put.status).toBe(200);
    const statusChanges = await app.request('GET', '/api/admin/audit?action=dealer_status_change', { headers: adminToken });
    expect(statusChanges.body.entries[0]).toMatchObject({
      actor: 'token:boss-1',
      subjects: [`dealer:${changed.id}`],
      detail: { status: 'suspended', from: 'approved' },
    });

    // The typed client reads the same log (its answer checked against the spec too).
    const office = createKaggiClient(app.url, { adminKey: ADMIN_KEY });
    const { data, response } = await office.GET('/api/admin/audit', { params: { query: { limit: 2, action: 'erasure' } } });
    await assertMatchesSpec('GET', '/api/admin/audit', response.status, response.headers.get('content-type'), data);
    expect(data?.entries.every((e) => e.action === 'erasure')).toBe(true);

    // Append-only, in the database itself.
    await expect(app.sql.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    expect((await app.request('GET', '/api/admin/audit', {})).status).toBe(401);
  });
});
