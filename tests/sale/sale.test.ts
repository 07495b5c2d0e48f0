import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp } from '../helpers/app.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { outbox } from '../auctions/helpers.js';
import { SseClient } from '../events/helpers.js';
import { assertMatchesSpec } from '../helpers/contract.js';
import { admin, bearer, signIn } from '../api/seller-helpers.js';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import { BACKOFFICE, VALID_DETAILS, dealer, saleEnv, soldCar, step, type Dealer } from './helpers.js';

let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
let app: TestApp;
let buyer: Dealer;
let other: Dealer;
beforeAll(async () => {
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
  app = await startTestApp(saleEnv(brevo, twilio));
  buyer = await dealer(app, 'bilaland');
  other = await dealer(app, 'bilasala');
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
  await twilio?.close();
});

const sellerPage = (token: string) => app.request('GET', '/api/seller/car', { headers: bearer(token) });
const purchase = (carId: string, d: Dealer) => app.request('GET', `/api/dealer/purchases/${carId}`, { headers: d.headers });

describe('the sale, from sold to completed', () => {
  it('opens with the sale, follows every step on both pages, and completes', async () => {
    const { carId, sellerToken } = await soldCar(app, brevo, [
      [other, 1_400_000],
      [buyer, 1_512_000],
    ]);

    // The sale opened in the accept's transaction: the seller sees it.
    let mine = await sellerPage(sellerToken);
    expect(mine.status).toBe(200);
    expect(mine.body.sale).toMatchObject({
      car_id: carId,
      state: 'open',
      price: 1_512_000,
      buyer: { company: 'bilaland ehf.' },
      sold_by: 'seller',
      steps: [],
      pickup: null,
      seller_details_given: false,
      seller_details: null,
    });
    expect(mine.body.sale).not.toHaveProperty('seller_contact');
    expect(mine.body.sale).not.toHaveProperty('dealer_email');
    const { rows: due } = await app.sql.query(
      `SELECT extract(epoch FROM payment_due_at - created_at)::int AS s FROM sales WHERE car_id = $1`,
      [carId],
    );
    expect(due[0].s).toBe(2 * 86400);

    // Order and repetition.
    let res = await step(app, carId, 'ownership_transferred');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('step_out_of_order');
    res = await step(app, carId, 'contract_signed', 'Undirritað rafrænt');
    expect(res.status, res.text).toBe(200);
    expect(res.body.sale.steps).toEqual([
      { step: 'contract_signed', recorded_by: 'admin', at: expect.any(String), note: 'Undirritað rafrænt' },
    ]);
    res = await step(app, carId, 'contract_signed');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('step_already_recorded');
    res = await step(app, carId, 'ownership_transferred');
    expect(res.body.error).toBe('step_out_of_order');
    expect(res.body.message).toContain('buyer_paid');
    // A bad step name is the spec's 422; without credentials 401.
    expect((await step(app, carId, 'paid')).status).toBe(422);
    expect((await app.request('POST', `/api/admin/cars/${carId}/sale/steps`, { body: { step: 'buyer_paid' } })).status).toBe(401);

    // The buying dealer sees the purchase with the seller's contact; the other dealer nothing.
    const bought = await purchase(carId, buyer);
    expect(bought.status, bought.text).toBe(200);
    expect(bought.body.sale).toMatchObject({
      price: 1_512_000,
      seller_contact: { name: 'Þórunn Ásgeirsdóttir', phone: '+3547777777' },
      pickup_address: null,
    });
    expect(bought.body.sale.steps[0]).not.toHaveProperty('note');
    expect(bought.body.sale).not.toHaveProperty('seller_details');
    expect((await purchase(carId, other)).status).toBe(404);
    expect((await app.request('GET', `/api/dealer/purchases/${carId}`)).status).toBe(401);

    // Payment starts the pick-up clock.
    res = await step(app, carId, 'buyer_paid');
    expect(res.status).toBe(200);
    const pickupDue = Date.parse(res.body.sale.deadlines.pickup_due_at);
    expect(pickupDue).toBeGreaterThan(Date.now() + 2.9 * 86400_000);
    expect(pickupDue).toBeLessThan(Date.now() + 3.1 * 86400_000);

    // Pick-up: the buyer proposes, within the deadline and in the future only.
    const propose = (at: string, d = buyer) =>
      app.request('PUT', `/api/dealer/purchases/${carId}/pickup`, { headers: d.headers, body: { at, note: 'Komum kl. tíu' } });
    expect((await propose(new Date(Date.now() - 60_000).toISOString())).status).toBe(422);
    expect((await propose(new Date(pickupDue + 3600_000).toISOString())).status).toBe(422);
    expect((await propose(new Date(Date.now() + 86400_000).toISOString(), other)).status).toBe(404);
    const at = new Date(Math.floor((Date.now() + 86400_000) / 1000) * 1000).toISOString();
    res = await propose(at);
    expect(res.status, res.text).toBe(200);
    expect(res.body.sale.pickup).toEqual({ at, note: 'Komum kl. tíu', state: 'proposed', answer: null });

    // The seller asks for another time (a note is needed), then confirms the next proposal.
    expect((await app.request('POST', '/api/seller/car/pickup', { headers: bearer(sellerToken), body: { confirm: false } })).status).toBe(
      422,
    );
    res = await app.request('POST', '/api/seller/car/pickup', {
      headers: bearer(sellerToken),
      body: { confirm: false, note: 'Betra eftir kl. 16' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.sale.pickup).toMatchObject({ state: 'declined', answer: 'Betra eftir kl. 16' });
    expect((await propose(at)).status).toBe(200);
    res = await app.request('POST', '/api/seller/car/pickup', { headers: bearer(sellerToken), body: { confirm: true } });
    expect(res.status).toBe(200);
    expect((await sellerPage(sellerToken)).body.sale.pickup).toMatchObject({ at, state: 'confirmed' });
    expect((await purchase(carId, buyer)).body.sale.pickup).toMatchObject({ at, state: 'confirmed' });

    for (const s of ['picked_up', 'ownership_transferred', 'seller_paid']) {
      res = await step(app, carId, s);
      expect(res.status, `${s}: ${res.text}`).toBe(200);
    }
    expect(res.body.sale.state).toBe('completed');
    expect(res.body.sale.completed_at).not.toBeNull();
    expect(res.body.sale.steps.map((s: { step: string }) => s.step)).toEqual([
      'contract_signed',
      'buyer_paid',
      'picked_up',
      'ownership_transferred',
      'seller_paid',
      'completed',
    ]);
    expect(res.body.sale.steps.at(-1).recorded_by).toBe('system');
    expect((await step(app, carId, 'seller_paid')).body.error).toBe('sale_closed');

    // The seller's timeline carries the steps, after `sold`.
    mine = await sellerPage(sellerToken);
    expect(mine.body.sale.state).toBe('completed');
    const timeline = mine.body.timeline.map((t: { status: string; sale_action?: string; step?: string | null }) =>
      t.sale_action ? t.step : t.status,
    );
    expect(timeline).toEqual([
      'active',
      'closed',
      'sold',
      'contract_signed',
      'buyer_paid',
      null, // pick-up proposed, declined, proposed, confirmed: no step
      null,
      null,
      null,
      'picked_up',
      'ownership_transferred',
      'seller_paid',
      'completed',
    ]);

    // The event log: `sale` events with the standing, no personal data.
    const { rows: events } = await app.sql.query(`SELECT data FROM car_events WHERE car_id = $1 AND kind = 'sale' ORDER BY id`, [carId]);
    expect(events.map((e: { data: { action: string } }) => e.data.action)).toEqual([
      'step',
      'step',
      'pickup_proposed',
      'pickup_declined',
      'pickup_proposed',
      'pickup_confirmed',
      'step',
      'step',
      'step',
      'step',
    ]);
    expect(events[0].data).toMatchObject({ status: 'sold', highest_bid: 1_512_000, bid_count: 2, sale_state: 'open' });
    expect(JSON.stringify(events)).not.toMatch(/bilaland|Þórunn|777|Betra|Komum|Undirrit/);

    // E-mails to both sides for each step; none carries a note.
    const mails = await outbox(app, carId);
    const stepMails = mails.filter((m) => m.kind === 'sale_step');
    expect(stepMails.filter((m) => m.to_email === buyer.email)).toHaveLength(5);
    expect(stepMails.filter((m) => m.to_email !== buyer.email)).toHaveLength(5);
    expect(mails.filter((m) => m.kind === 'pickup_proposed')).toHaveLength(4);
    expect(mails.filter((m) => m.kind === 'pickup_answered')).toHaveLength(4);
    expect(JSON.stringify(stepMails)).not.toContain('Undirritað');

    // The back office's worklist.
    const list = await app.request('GET', '/api/admin/sales?state=completed', { headers: admin });
    expect(list.status).toBe(200);
    expect(list.body.sales.map((s: { car_id: string }) => s.car_id)).toContain(carId);
    expect(list.body.sales[0]).toHaveProperty('dealer_email');
    const open = await app.request('GET', '/api/admin/sales?state=open', { headers: admin });
    expect(open.body.sales.map((s: { car_id: string }) => s.car_id)).not.toContain(carId);
    expect((await app.request('GET', '/api/admin/sales?state=closed', { headers: admin })).status).toBe(422);
  });

  it('pages the worklist with keyset cursors', async () => {
    for (let i = 0; i < 3; i += 1) await soldCar(app, brevo, [[buyer, 500_000 + i * 12_000]]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await app.request('GET', `/api/admin/sales?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        headers: admin,
      });
      expect(page.status).toBe(200);
      expect(page.body.sales.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.sales.map((s: { id: string }) => s.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    const { rows } = await app.sql.query('SELECT id FROM sales ORDER BY created_at DESC, id DESC');
    expect(seen).toEqual(rows.map((r: { id: string }) => r.id));
  });

  it('records two steps racing exactly once', async () => {
    const { carId } = await soldCar(app, brevo, [[buyer, 900_000]]);
    const results = await Promise.all([step(app, carId, 'buyer_paid'), step(app, carId, 'buyer_paid'), step(app, carId, 'buyer_paid')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const { rows } = await app.sql.query(
      `SELECT count(*)::int AS n FROM sale_steps t JOIN sales s ON s.id = t.sale_id WHERE s.car_id = $1`,
      [carId],
    );
    expect(rows[0].n).toBe(1);
  });
});

describe('the live streams', () => {
  it('carry the sale as `sale` events, live and on resuming, without personal data', async () => {
    const { carId } = await soldCar(app, brevo, [[buyer, 950_000]]);
    const opened = await SseClient.open(app.url, `/api/cars/${carId}/events`);
    expect(opened.status).toBe(200);
    const stream = opened.client!;
    await stream.until((events) => events.some((e) => e.event === 'snapshot'));
    const all = (await SseClient.open(app.url, '/api/events')).client!;
    expect((await step(app, carId, 'contract_signed', 'Innri athugasemd')).status).toBe(200);
    const events = await stream.until((list) => list.some((e) => e.event === 'sale'), 10_000, 'the sale event');
    const sale = events.find((e) => e.event === 'sale')!;
    expect(sale.data).toMatchObject({ car_id: carId, status: 'sold', action: 'step', step: 'contract_signed', sale_state: 'open' });
    expect(JSON.stringify(sale.data)).not.toMatch(/Innri|bilaland|@/);
    await all.until((list) => list.some((e) => e.event === 'sale' && e.data.car_id === carId), 10_000, 'the sale event on /api/events');
    stream.close();
    all.close();

    // A client that missed it gets it on resuming from the event before.
    const { rows } = await app.sql.query(`SELECT id FROM car_events WHERE car_id = $1 AND kind = 'status' ORDER BY id DESC LIMIT 1`, [
      carId,
    ]);
    const resumed = (await SseClient.open(app.url, `/api/cars/${carId}/events`, { 'Last-Event-ID': String(rows[0].id) })).client!;
    const replay = await resumed.until((list) => list.some((e) => e.event === 'sale'), 10_000, 'the replayed sale event');
    expect(replay.find((e) => e.event === 'sale')!.data.step).toBe('contract_signed');
    resumed.close();
  });
});

describe("the seller's details", () => {
  it('are checked, sealed at rest, masked for the seller and clear for admins', async () => {
    const { carId, sellerToken } = await soldCar(app, brevo, [[buyer, 2_000_000]]);
    const put = (body: unknown) => app.request('PUT', '/api/seller/car/sale/details', { headers: bearer(sellerToken), body });
    let res = await put({ ...VALID_DETAILS, kennitala: '010130-3029' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('body.kennitala');
    res = await put({ ...VALID_DETAILS, bank_account: '0133-26-01234' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('body.bank_account');
    expect((await put({ ...VALID_DETAILS, address: '   ' })).status).toBe(422);

    res = await put({ ...VALID_DETAILS, kennitala: '0101303019', bank_account: '0133 26 012345' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.sale.seller_details).toEqual({
      kennitala: '••••••-3019',
      address: expect.not.stringContaining('Þórsgata'),
      bank_account: '••••-••-••2345',
    });

    // At rest: no kennitala digits, no account, no address; sealed with the first key.
    const { rows } = await app.sql.query('SELECT seller_kennitala, seller_address, seller_bank FROM sales WHERE car_id = $1', [carId]);
    const raw = JSON.stringify(rows[0]);
    expect(raw).not.toMatch(/010130|3019|012345|Þórsgata|0133/);
    expect(rows[0].seller_kennitala).toMatch(/^v1\.k2\./);
    const { rows: events } = await app.sql.query('SELECT data FROM car_events WHERE car_id = $1', [carId]);
    expect(JSON.stringify(events)).not.toMatch(/010130|012345|Þórsgata/);
    expect(JSON.stringify(await outbox(app, carId))).not.toMatch(/010130|012345|Þórsgata/);

    // The seller's data export carries them as the page does: masked, and says so.
    const exported = await app.request('GET', '/api/seller/data-export', { headers: bearer(sellerToken) });
    expect(exported.status, exported.text).toBe(200);
    expect(exported.body.masked).toEqual(['sales.seller_details']);
    expect(exported.body.sections.sales).toContainEqual({ car_id: carId, seller_details: res.body.sale.seller_details });
    expect(JSON.stringify(exported.body)).not.toMatch(/010130|012345|Þórsgata/);

    const seen = await app.request('GET', `/api/admin/cars/${carId}/sale`, { headers: admin });
    expect(seen.status).toBe(200);
    expect(seen.body.sale.seller_details).toEqual(VALID_DETAILS);
    expect((await purchase(carId, buyer)).body.sale.pickup_address).toBe(VALID_DETAILS.address);

    // Only on a sold car: another car, still in auction, is refused.
    const plate = nextPlate('Q');
    await registerCar(app, { carPlate: plate, email: 'ari@example.is' });
    const token = await signIn(app, brevo, plate, 'ari@example.is');
    const refused = await app.request('PUT', '/api/seller/car/sale/details', { headers: bearer(token), body: VALID_DETAILS });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('car_not_sold');
  });

  it('open with a rotated key ring, and not where they were not sealed', async () => {
    const { parseKeyring, seal, unseal } = await import('../../src/domain/sealed.js');
    const { KEY_NEW, KEY_OLD } = await import('./helpers.js');
    const old = parseKeyring(KEY_OLD);
    const sealed = seal(old, '010130-3019', 'sales.kennitala:x');
    expect(unseal(parseKeyring(`${KEY_NEW},${KEY_OLD}`), sealed, 'sales.kennitala:x')).toBe('010130-3019');
    expect(() => unseal(parseKeyring(KEY_NEW), sealed, 'sales.kennitala:x')).toThrow(/not in the ring/);
    expect(() => unseal(old, sealed, 'sales.kennitala:y')).toThrow();
    const [v, id, iv, tag, ct] = sealed.split('.');
    const flipped = `${v}.${id}.${iv}.${tag}.${ct.slice(0, -2)}${ct.at(-2) === 'A' ? 'B' : 'A'}${ct.at(-1)}`;
    expect(() => unseal(old, flipped, 'sales.kennitala:x')).toThrow();
    expect(() => parseKeyring('k1:c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it('answer 503 not_configured in production without a key', async () => {
    const { keyringOf } = await import('../../src/usecases/sale.js');
    expect(keyringOf({ NODE_ENV: 'production', DATA_ENCRYPTION_KEY: undefined })).toBeNull();
    expect(keyringOf({ NODE_ENV: 'development', DATA_ENCRYPTION_KEY: undefined })?.keys.size).toBe(1);
  });
});

describe('the contract', () => {
  let inkOnPage1 = 0;
  function pdfText(pdf: Buffer): { text: string; png: Buffer } {
    const dir = mkdtempSync(path.join(tmpdir(), 'kaggi-contract-'));
    const file = path.join(dir, 'contract.pdf');
    writeFileSync(file, pdf);
    const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'page')]);
    execFileSync('pdftoppm', ['-gray', '-r', '50', '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'grey')]);
    const pgm = readFileSync(path.join(dir, 'grey.pgm'));
    const [, width, height] = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 32).toString('latin1'))!.map(Number);
    const pixels = pgm.subarray(pgm.length - width * height);
    inkOnPage1 = pixels.filter((p) => p < 128).length / pixels.length;
    return { text, png: readFileSync(path.join(dir, 'page.png')) };
  }

  it('is a bill of sale with every value in Icelandic, for the parties only', async () => {
    const { carId, plate, sellerToken } = await soldCar(app, brevo, [[buyer, 1_512_000]], { name: 'Þórður Ævar Öldusson' });
    const url = `/api/cars/${carId}/sale/contract.pdf`;
    const get = (headers: Record<string, string> = {}) =>
      fetch(`${app.url}${url}`, { headers })
        .then(async (r) => {
          await assertMatchesSpec('GET', url, r.status, r.headers.get('content-type'), '');
          return r;
        })
        .then(async (r) => ({
          status: r.status,
          type: r.headers.get('content-type'),
          body: Buffer.from(await r.arrayBuffer()),
          disposition: r.headers.get('content-disposition'),
        }));

    expect((await app.request('GET', url)).status).toBe(401);
    expect((await app.request('GET', url, { headers: other.headers })).status).toBe(404);
    const missing = await app.request('GET', url, { headers: bearer(sellerToken) });
    expect(missing.status).toBe(409);
    expect(missing.body.error).toBe('sale_details_missing');

    await app.sql.query(
      `INSERT INTO car_inspections (car_id, inspector, inspected_at, odometer_km, overall_grade) VALUES ($1, 'Frumherji', now(), 84000, 4)`,
      [carId],
    );
    const put = await app.request('PUT', '/api/seller/car/sale/details', {
      headers: bearer(sellerToken),
      body: { kennitala: '0101303019', address: 'Ægisíða 56, 107 Reykjavík', bank_account: '0133-26-012345', vin: 'jtdkb20u103456789' },
    });
    expect(put.status, put.text).toBe(200);
    const { rows: dealerRows } = await app.sql.query('SELECT organization_number FROM dealers WHERE email = $1', [buyer.email]);
    const org = dealerRows[0].organization_number as string;

    for (const headers of [bearer(sellerToken), buyer.headers, admin]) {
      const res = await get(headers);
      expect(res.status).toBe(200);
      expect(res.type).toBe('application/pdf');
      expect(res.disposition).toBe(`inline; filename="kaupsamningur-${plate}.pdf"`);
      expect(res.body.subarray(0, 5).toString()).toBe('%PDF-');
    }
    const { text, png } = pdfText((await get(admin)).body);
    for (const value of [
      'Kaupsamningur um bifreið',
      'Þórður Ævar Öldusson',
      '010130-3019',
      'Ægisíða 56, 107 Reykjavík',
      'bilaland ehf.',
      `${org.slice(0, 6)}-${org.slice(6)}`,
      'Bíldshöfði 10, 110 Reykjavík',
      plate,
      'JTDKB20U103456789',
      'Toyota',
      'Yaris',
      '2018',
      '84.000 km',
      '1.512.000 kr.',
      'Yfirlýsingar seljanda',
      '4 af 5 (Frumherji)',
      'Undirskrift seljanda',
      'Undirskrift kaupanda',
      'Kaggi hefur milligöngu',
    ]) {
      expect(text, value).toContain(value);
    }
    // Every Icelandic letter survives the round trip.
    for (const letter of ['þ', 'ð', 'æ', 'ö', 'á', 'é', 'í', 'ó', 'ú', 'ý', 'Þ', 'Æ', 'Ö']) expect(text, letter).toContain(letter);
    // The bank account is for the payment, not the contract.
    expect(text).not.toContain('012345');

    // Page 1 is not blank: rendered to PNG, and (as greyscale PGM, simple to read) it has ink.
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(inkOnPage1).toBeGreaterThan(0.005);
  });
});

describe('the deadlines', () => {
  it('mark a sale overdue once, with several sweeps at once, and e-mail the buyer and the back office', async () => {
    const { carId } = await soldCar(app, brevo, [[buyer, 700_000]]);
    const { sweepOverdueSales } = await import('../../src/auctions/overdue-sales.js');
    const { createDb } = await import('../../src/db/pool.js');
    const sweep = () => sweepOverdueSales(app.db, app.config);
    expect(await sweep()).toBe(0);

    await app.sql.query(`UPDATE sales SET payment_due_at = now() - interval '1 minute' WHERE car_id = $1`, [carId]);
    const second = await createDb(app.config.DATABASE_URL!, app.config);
    try {
      const marked = await Promise.all([sweep(), sweepOverdueSales(second, app.config), sweep(), sweepOverdueSales(second, app.config)]);
      expect(marked.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await second.end();
    }
    let seen = await app.request('GET', `/api/admin/cars/${carId}/sale`, { headers: admin });
    expect(seen.body.sale.state).toBe('overdue');
    expect(seen.body.sale.deadlines.payment_overdue).toBe(true);
    const overdueList = await app.request('GET', '/api/admin/sales?state=overdue', { headers: admin });
    expect(overdueList.body.sales.map((s: { car_id: string }) => s.car_id)).toEqual([carId]);
    let mails = (await outbox(app, carId)).filter((m) => m.kind === 'sale_overdue');
    expect(mails.map((m) => m.to_email).sort()).toEqual([BACKOFFICE, buyer.email].sort());
    expect(await sweep()).toBe(0);

    // Paying late brings the sale back to open; then the pick-up deadline can be missed too.
    const paid = await step(app, carId, 'buyer_paid');
    expect(paid.body.sale.state).toBe('open');
    await app.sql.query(`UPDATE sales SET pickup_due_at = now() - interval '1 minute' WHERE car_id = $1`, [carId]);
    expect(await sweep()).toBe(1);
    expect(await sweep()).toBe(0);
    seen = await app.request('GET', `/api/admin/cars/${carId}/sale`, { headers: admin });
    expect(seen.body.sale).toMatchObject({ state: 'overdue', deadlines: { payment_overdue: true, pickup_overdue: true } });
    mails = (await outbox(app, carId)).filter((m) => m.kind === 'sale_overdue');
    expect(mails).toHaveLength(4);
    expect(mails.map((m) => m.params.deadline)).toEqual(['payment', 'payment', 'pickup', 'pickup']);
    const { rows } = await app.sql.query(
      `SELECT data FROM car_events WHERE car_id = $1 AND kind = 'sale' AND data->>'action' = 'overdue'`,
      [carId],
    );
    expect(rows.map((r: { data: { step: string } }) => r.data.step)).toEqual(['buyer_paid', 'picked_up']);
  });
});

describe('when the buyer backs out', () => {
  it('cancels the sale, sets the bids aside, and the seller sells to the next dealer', async () => {
    const runnerUp = await dealer(app, 'notad');
    const { carId, sellerToken } = await soldCar(app, brevo, [
      [runnerUp, 1_000_000],
      [buyer, 1_100_000],
    ]);
    const before = await app.request('GET', '/api/admin/dealers', { headers: admin });
    const record = (body: { dealers: { email: string; purchases: number; cancellations: number }[] }, d: Dealer) =>
      body.dealers.find((x) => x.email === d.email);
    const buyerBefore = record(before.body, buyer)!;

    expect((await app.request('POST', `/api/admin/cars/${carId}/sale/cancel`, { headers: admin, body: { reason: ' ' } })).status).toBe(422);
    const [a, b] = await Promise.all([
      app.request('POST', `/api/admin/cars/${carId}/sale/cancel`, { headers: admin, body: { reason: 'Kaupandi hætti við' } }),
      app.request('POST', `/api/admin/cars/${carId}/sale/cancel`, { headers: admin, body: { reason: 'Kaupandi hætti við' } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 404]);
    const cancelled = a.status === 200 ? a : b;
    expect(cancelled.body.sale).toMatchObject({ state: 'cancelled', cancel_reason: 'Kaupandi hætti við' });

    // Back to closed, a fresh deadline, the buyer's bid no longer counts.
    let mine = await sellerPage(sellerToken);
    expect(mine.body.car.status).toBe('closed');
    expect(Date.parse(mine.body.car.decision_due_at)).toBeGreaterThan(Date.now() + 47.9 * 3600_000);
    expect(mine.body.bids.map((x: { amount: number }) => x.amount)).toEqual([1_000_000]);
    expect(mine.body.car.highest_bid).toBe(1_000_000);
    expect(mine.body.sale.state).toBe('cancelled');
    expect(mine.body.timeline.map((t: { status: string; sale_action?: string }) => t.sale_action ?? t.status).slice(-3)).toEqual([
      'sold',
      'closed',
      'cancelled',
    ]);
    const publicBids = await app.request('GET', `/api/bids/car/${carId}`, { headers: runnerUp.headers });
    expect(publicBids.status).toBe(200);
    expect(publicBids.body.bids.map((x: { bid_amount: number }) => x.bid_amount)).toEqual([1_000_000]);
    expect((await purchase(carId, buyer)).status).toBe(404);
    const mails = (await outbox(app, carId)).filter((m) => m.kind === 'sale_cancelled');
    expect(mails).toHaveLength(2);

    // Another step on the cancelled sale: nothing to record.
    expect((await step(app, carId, 'buyer_paid')).status).toBe(404);

    // The seller decides again: accepting sells to the runner-up.
    const accepted = await app.request('POST', '/api/seller/car/accept', { headers: bearer(sellerToken) });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.winning_bid.amount).toBe(1_000_000);
    mine = await sellerPage(sellerToken);
    expect(mine.body.sale).toMatchObject({ state: 'open', price: 1_000_000, buyer: { company: 'notad ehf.' } });
    expect((await purchase(carId, runnerUp)).status).toBe(200);

    const after = await app.request('GET', '/api/admin/dealers', { headers: admin });
    expect(record(after.body, buyer)).toMatchObject({ cancellations: buyerBefore.cancellations + 1, purchases: buyerBefore.purchases - 1 });
    expect(record(after.body, runnerUp)).toMatchObject({ purchases: 1, cancellations: 0 });
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM sales WHERE car_id = $1', [carId]);
    expect(rows[0].n).toBe(2);
  });

  it('an open sale blocks the seller’s erasure until it completes', async () => {
    const { carId, sellerToken } = await soldCar(app, brevo, [[buyer, 900_000]]);
    const blocked = await app.request('POST', '/api/seller/erasure', { headers: bearer(sellerToken) });
    expect([blocked.status, blocked.body.error]).toEqual([409, 'erasure_blocked']);
    expect(blocked.body.message).toMatch(/sale in progress/);
    const { rows } = await app.sql.query('SELECT seller_name FROM "Bílar" WHERE id = $1', [carId]);
    expect(rows[0].seller_name).not.toBe('[erased]');
    for (const s of ['contract_signed', 'buyer_paid', 'picked_up', 'ownership_transferred', 'seller_paid']) {
      expect((await step(app, carId, s)).status).toBe(200);
    }
    const erased = await app.request('POST', '/api/seller/erasure', { headers: bearer(sellerToken) });
    expect([erased.status, erased.body.erased]).toEqual([200, true]);
  });

  it('is refused once ownership has been transferred', async () => {
    const { carId } = await soldCar(app, brevo, [[buyer, 800_000]]);
    for (const s of ['contract_signed', 'buyer_paid', 'ownership_transferred']) expect((await step(app, carId, s)).status).toBe(200);
    const res = await app.request('POST', `/api/admin/cars/${carId}/sale/cancel`, { headers: admin, body: { reason: 'of seint' } });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('sale_closed');
    // Nor can the status endpoint take a sold car back to closed.
    const direct = await app.request('PUT', `/api/cars/${carId}/status`, { headers: admin, body: { status: 'closed' } });
    expect(direct.status).toBe(409);
  });
});
