import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKaggiClient, type KaggiClient } from '../../client/index.js';
import { loadSpec } from '../../src/api/spec.js';
import { assertMatchesSpec } from '../helpers/contract.js';
import { specChecked, type CheckedResponse } from './spec-checked.js';

/**
 * `npm run mock` (Prism serving openapi.yaml) as the frontend uses it: started on a free
 * port through MOCK_PORT, called with plain fetch and through the typed client, every
 * answer checked against openapi.yaml, then stopped with its whole process group.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const CAR_ID = '6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Live (non-zombie) processes whose process group is `pgid`, from /proc. */
function livingInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

type Example = { value?: unknown; $ref?: string };
type ResponseObject = { $ref?: string; content?: Record<string, { examples?: Record<string, Example>; example?: unknown }> };

/** A response example from openapi.yaml: the named one, or the first (what Prism picks by default). */
function specExample(path: string, method: string, status: number, name?: string): unknown {
  const doc = loadSpec().document as unknown as {
    paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
    components: { responses: Record<string, ResponseObject>; examples: Record<string, Example> };
  };
  let response = doc.paths[path][method].responses[String(status)];
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop()!]!;
  const media = response.content!['application/json'];
  if (media.example !== undefined && !name) return media.example;
  const examples = media.examples ?? {};
  let example = name ? examples[name] : Object.values(examples)[0];
  if (example?.$ref) example = doc.components.examples[example.$ref.split('/').pop()!];
  return example?.value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let prism: ChildProcess | undefined;
let base = '';
let output = '';
let exited = false;
let startupMs = 0;
let kaggi: KaggiClient;
let seen: CheckedResponse[];
const checkedSeller = specChecked();

/** Plain fetch, the answer judged against openapi.yaml like every other response. */
async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  const json = contentType?.includes('json') && text ? JSON.parse(text) : text;
  const { operationId } = await assertMatchesSpec(method, p, res.status, contentType, json);
  return { status: res.status, headers: res.headers, body: json, operationId };
}

async function stopPrism(): Promise<void> {
  if (!prism?.pid || exited) return;
  const pgid = prism.pid;
  const gone = new Promise<void>((resolve) => prism!.once('exit', () => resolve()));
  process.kill(-pgid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline && (!exited || livingInGroup(pgid).length > 0)) await sleep(50);
  if (livingInGroup(pgid).length > 0) {
    process.kill(-pgid, 'SIGKILL');
    throw new Error(`Prism's process group ${pgid} ignored SIGTERM for ${STOP_TIMEOUT_MS} ms and was killed\n${output}`);
  }
  await gone;
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  // detached: npm, its shell and Prism share a new process group, stopped as one.
  prism = spawn('npm', ['run', '--silent', 'mock'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOCK_PORT: String(port), npm_config_update_notifier: 'false' },
  });
  prism.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  prism.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  prism.once('exit', () => (exited = true));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`npm run mock exited before it was ready:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm run mock not ready on ${base} after ${READY_TIMEOUT_MS} ms:\n${output}`);
    try {
      const res = await fetch(`${base}/health`);
      const text = await res.text();
      if (res.status === 200) {
        // even the readiness probe's answer must be what the spec says /health answers
        await assertMatchesSpec('GET', '/health', res.status, res.headers.get('content-type'), JSON.parse(text));
        break;
      }
    } catch (error) {
      if (error instanceof Error && /openapi\.yaml|not declared|Error schema/.test(error.message)) throw error;
      // not listening yet
    }
    await sleep(100);
  }
  startupMs = Math.round(performance.now() - t0);
  console.info(`prism ready on ${base} in ${startupMs} ms`);

  const checked = specChecked();
  seen = checked.seen;
  kaggi = createKaggiClient(base, { middleware: [checked.middleware] });
}, READY_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await stopPrism();
});

describe('npm run mock (Prism)', () => {
  it('listens on MOCK_PORT and answers from the spec examples, with CORS for the frontend', async () => {
    expect(output).toContain(`Prism is listening on ${base}`);
    const info = await call('GET', '/api');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ success: true, message: 'Kaggi API is running' });
    expect(info.headers.get('access-control-allow-origin')).toBe('*');

    const cars = await call('GET', '/api/cars?status=active&limit=10');
    expect(cars.status).toBe(200);
    expect(cars.body.cars[0]).toMatchObject({ id: CAR_ID, car_plate: 'AB123', car_make: 'Toyota' });

    const car = await call('GET', `/api/cars/${CAR_ID}`);
    expect([car.status, car.operationId]).toEqual([200, 'getCar']);
  });

  it('answers 422 with the Error shape for a request that breaks the spec, naming the violations', async () => {
    const res = await call('POST', '/api/bids/create', { car_id: 'not-a-uuid', dealer_name: 'Bílaland ehf.', bid_amount: -5 });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
    expect(Array.isArray(res.body.errors)).toBe(true);
    const violations = JSON.parse(res.headers.get('sl-violations') ?? '[]') as Array<{ message: string }>;
    const messages = violations.map((v) => v.message).join('\n');
    expect(messages).toMatch(/dealer_email/);
    expect(messages).toMatch(/car_id/);

    const badPath = await call('GET', '/api/cars/not-a-uuid');
    expect(badPath.status).toBe(422);
    const badQuery = await call('GET', '/api/cars?status=archived');
    expect(badQuery.status).toBe(422);
  });

  it('returns a named example with `Prefer: example=…` and a declared status with `Prefer: code=…`', async () => {
    const notFound = await call('POST', '/api/vehicle/verify', { plate: 'ZZ999', mileage: 1000 }, { Prefer: 'example=notFound' });
    expect(notFound.status).toBe(200);
    expect(notFound.body).toEqual(specExample('/api/vehicle/verify', 'post', 200, 'notFound'));
    expect(notFound.body).toMatchObject({ success: false, error: 'not_found' });

    const bid = { car_id: CAR_ID, dealer_name: 'Bílaland ehf.', dealer_email: 'sala@bilaland.is', bid_amount: 100 };
    const tooLow = await call('POST', '/api/bids/create', bid, { Prefer: 'code=409' });
    expect(tooLow.status).toBe(409);
    expect(tooLow.body).toEqual(specExample('/api/bids/create', 'post', 409));
    expect(tooLow.body).toMatchObject({ success: false, error: 'bid_too_low' });

    const wrongCode = await kaggi.POST('/api/verify-code', {
      body: { phone: '+3547777777', code: '000000' },
      headers: { Prefer: 'example=invalid' },
    });
    expect(wrongCode.data).toEqual(specExample('/api/verify-code', 'post', 200, 'invalid'));
    expect(wrongCode.data?.valid).toBe(false);
  });

  it('runs the frontend dealer flow through the typed client', async () => {
    const email = 'bilaland@example.is';
    const company = await kaggi.POST('/api/validate-company', { body: { kennitala: '410215-3060' } });
    expect(company.data).toMatchObject({ success: true, valid: true });
    const dealer = await kaggi.POST('/api/dealers/register', {
      body: {
        firstName: 'Guðrún',
        surname: 'Sigurðardóttir',
        organizationNumber: '4102153060',
        dealerName: 'Bílaland',
        mobileNumber: '+3546601234',
        streetAddress: 'Bíldshöfði 10',
        postalCode: '110',
        city: 'Reykjavík',
      },
      headers: { Prefer: 'example=withoutVehicle' },
    });
    expect(dealer.response.status).toBe(201);
    expect(dealer.data?.data.dealer.email).toBeNull();
    const cars = await kaggi.GET('/api/cars', { params: { query: { status: 'active' } } });
    const carId = cars.data!.cars[0].id;
    const fav = await kaggi.POST('/api/favorites/add', { body: { car_id: carId, dealer_email: email } });
    expect(fav.data?.favorite.car_id).toBe(carId);
    const favs = await kaggi.GET('/api/favorites/{dealer_email}', { params: { path: { dealer_email: email } } });
    expect(favs.data?.count).toBe(1);
    const bid = await kaggi.POST('/api/bids/create', {
      body: { car_id: carId, dealer_name: 'Bílaland ehf.', dealer_email: email, bid_amount: 2_450_000 },
    });
    expect(bid.response.status).toBe(201);
    const mine = await kaggi.GET('/api/bids/dealer/{dealer_email}', { params: { path: { dealer_email: email } } });
    expect(mine.data?.bids[0]?.car.car_plate).toBeTruthy();
    const stats = await kaggi.GET('/api/dashboard/stats/{dealer_email}', { params: { path: { dealer_email: email } } });
    expect(stats.data?.stats.my_bids).toBeGreaterThan(0);
  });

  it('runs the frontend seller flow through the typed client', async () => {
    const vehicle = await kaggi.POST('/api/vehicle/verify', { body: { plate: 'AB123', mileage: 84000 } });
    expect(vehicle.data).toMatchObject({ success: true, data: { make: 'Toyota', model: 'Yaris' } });
    const car = await kaggi.POST('/api/cars/register', {
      body: {
        firstName: 'Jón',
        lastName: 'Jónsson',
        email: 'jon@example.is',
        phone: '777 7777',
        postalCode: '101',
        carMake: 'Toyota',
        carModel: 'Yaris',
        carPlate: 'ab 123',
        year: '2018',
        mileage: '84000',
      },
    });
    expect(car.response.status).toBe(201);
    const mail = await kaggi.POST('/api/send-welcome-email', {
      body: { name: 'Jón Jónsson', email: 'jon@example.is', phone: '+3547777777' },
    });
    expect(mail.data?.success).toBe(true);
    const sent = await kaggi.POST('/api/send-verification-code', { body: { phone: '+3547777777' } });
    expect(sent.data?.status).toBe('pending');
    const verified = await kaggi.POST('/api/verify-code', { body: { phone: '+3547777777', code: '482913' } });
    expect(verified.data).toMatchObject({ success: true, valid: true });
  });

  it('runs the seller’s page through the typed client: login, verify, my page, decisions and their errors', async () => {
    const login = await kaggi.POST('/api/seller/login', { body: { car_plate: 'ab 123', email: 'Jon@Example.IS' } });
    expect(login.response.status).toBe(202);
    expect(login.data).toEqual(specExample('/api/seller/login', 'post', 202));
    const session = await kaggi.POST('/api/seller/verify', { body: { car_plate: 'AB123', email: 'jon@example.is', code: '482913' } });
    expect(session.data?.car_id).toBe(CAR_ID);
    const wrong = await kaggi.POST('/api/seller/verify', {
      body: { car_plate: 'AB123', email: 'jon@example.is', code: '000000' },
      headers: { Prefer: 'code=401' },
    });
    expect(wrong.error).toMatchObject({ success: false, error: 'invalid_code' });

    const seller = createKaggiClient(base, { token: session.data!.token, middleware: [checkedSeller.middleware] });
    const page = await seller.GET('/api/seller/car');
    expect(page.data).toMatchObject({ car: { id: CAR_ID, status: 'closed' }, timeline: [{ status: 'active' }, { status: 'closed' }] });
    const accepted = await seller.POST('/api/seller/car/accept', { headers: { 'Idempotency-Key': 'mock-accept-1' } });
    expect(accepted.data).toMatchObject({ car: { status: 'sold' }, winning_bid: { amount: 2_450_000 } });
    const noBids = await seller.POST('/api/seller/car/accept', { headers: { Prefer: 'code=409, example=noBids' } });
    expect([noBids.response.status, noBids.error?.error]).toEqual([409, 'no_bids']);
    const declined = await seller.POST('/api/seller/car/decline', {});
    expect(declined.data?.car.status).toBe('declined');
    const withdrawn = await seller.POST('/api/seller/car/withdraw', { body: { reason: 'Seldi hann sjálfur' } });
    expect(withdrawn.data?.car.status).toBe('withdrawn');

    // without a token Prism answers the declared 401
    const anonymous = await call('GET', '/api/seller/car');
    expect(anonymous.status).toBe(401);
    expect(checkedSeller.seen.map((x) => x.operationId)).toEqual([
      'getSellerCar',
      'sellerAccept',
      'sellerAccept',
      'sellerDecline',
      'sellerWithdraw',
    ]);
  });

  it('checked every typed-client answer against openapi.yaml', () => {
    expect(seen.length).toBeGreaterThanOrEqual(14);
    expect(new Set(seen.map((s) => s.operationId))).toEqual(
      new Set([
        'verifyCode',
        'validateCompany',
        'registerDealer',
        'listCars',
        'addFavorite',
        'listFavorites',
        'createBid',
        'listDealerBids',
        'getDashboardStats',
        'verifyVehicle',
        'registerCar',
        'sendWelcomeEmail',
        'sendVerificationCode',
        'sellerLogin',
        'sellerVerify',
      ]),
    );
  });

  it('stops with its whole process group: nothing left running, port closed', async () => {
    const pgid = prism!.pid!;
    expect(livingInGroup(pgid).length).toBeGreaterThanOrEqual(2); // npm, sh and node prism
    const t0 = performance.now();
    await stopPrism();
    console.info(`prism stopped in ${Math.round(performance.now() - t0)} ms (startup was ${startupMs} ms)`);
    expect(exited).toBe(true);
    expect(livingInGroup(pgid)).toEqual([]);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
