import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { bid, outbox } from '../auctions/helpers.js';
import { admin, bearer, closeNow, codeFromEmail, mailsTo, sellerEnv, signIn } from './seller-helpers.js';

let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
let app: TestApp;
beforeAll(async () => {
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
  // many sign-ins from one test IP: the per-IP login limit is tested on its own below
  // Every seller of this file signs in from 127.0.0.1: the per-IP budgets are raised, the
  // per plate + e-mail ones are what these tests check.
  app = await startTestApp(
    sellerEnv(brevo, twilio, { RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR: '1000', RATE_LIMIT_SELLER_VERIFY_PER_IP_PER_15MIN: '1000' }),
  );
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
  await twilio?.close();
});

const page = (token: string) => app.request('GET', '/api/seller/car', { headers: bearer(token) });
const decide = (token: string, what: 'accept' | 'decline' | 'withdraw', body?: unknown, headers: Record<string, string> = {}) =>
  app.request('POST', `/api/seller/car/${what}`, { headers: { ...bearer(token), ...headers }, ...(body === undefined ? {} : { body }) });

describe('the seller journey', () => {
  it('signs in with plate and e-mail, follows the auction, and accepts the highest bid', async () => {
    const plate = nextPlate('J');
    const car = await registerCar(app, { carPlate: plate, email: 'Jon@Example.IS', phone: '777-7777' });

    // Plate and e-mail as typed differently from registration.
    const login = await app.request('POST', '/api/seller/login', { body: { car_plate: plate.toLowerCase(), email: 'JON@example.IS' } });
    expect(login.status).toBe(202);
    expect(login.body.success).toBe(true);
    const code = await codeFromEmail(brevo, 'jon@example.is', mailsTo(brevo, 'jon@example.is').length || 1);
    // the same code by SMS to the car's phone
    const sms = await (async () => {
      for (let i = 0; i < 50; i += 1) {
        const found = twilio.requests.find((r) => (r.body as Record<string, string>)?.Body?.includes(code));
        if (found) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    })();
    expect((sms?.body as Record<string, string>)?.To).toBe('+3547777777');
    // only a hash is stored
    const { rows: stored } = await app.sql.query('SELECT code_hash FROM seller_login_codes WHERE car_id = $1', [car.id]);
    expect(stored).toHaveLength(1);
    expect(stored[0].code_hash).not.toContain(code);

    const verified = await app.request('POST', '/api/seller/verify', { body: { car_plate: plate, email: 'jon@example.is', code } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ success: true, car_id: car.id });
    const claims = decodeJwt(verified.body.token);
    expect(claims).toMatchObject({ sub: car.id, role: 'seller' });
    expect(claims.exp! * 1000 - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    expect(claims.exp! * 1000 - Date.now()).toBeLessThanOrEqual(12 * 3600_000);
    expect(Date.parse(verified.body.expires_at)).toBe(claims.exp! * 1000);
    const token = verified.body.token as string;

    let mine = await page(token);
    expect(mine.status).toBe(200);
    expect(mine.body.car).toMatchObject({ id: car.id, status: 'active', decision_due_at: null, car_plate: plate });
    expect(mine.body.bids).toEqual([]);
    expect(mine.body.timeline.map((t: { status: string }) => t.status)).toEqual(['active']);

    await bid(app, car.id, 100_000, 'a@dealer.is');
    await bid(app, car.id, 150_000, 'b@dealer.is', 300_000);
    await bid(app, car.id, 200_000, 'c@dealer.is'); // b's proxy answers 212,000
    mine = await page(token);
    expect(mine.body.bids.map((b: { amount: number }) => b.amount)).toEqual([212_000, 200_000, 150_000, 100_000]);
    expect(Object.keys(mine.body.bids[0]).sort()).toEqual(['amount', 'created_at']);
    expect(mine.text).not.toMatch(/dealer\.is|300000/);

    await closeNow(app, car.id);
    mine = await page(token);
    expect(mine.body.car.status).toBe('closed');
    const { rows: times } = await app.sql.query(
      `SELECT extract(epoch FROM decision_due_at - closed_at)::int AS s FROM "Bílar" WHERE id = $1`,
      [car.id],
    );
    expect(times[0].s).toBe(48 * 3600);
    expect(Date.parse(mine.body.car.decision_due_at)).toBeGreaterThan(Date.now() + 47.9 * 3600_000);
    expect(mine.body.timeline.map((t: { status: string }) => t.status)).toEqual(['active', 'closed']);

    const accepted = await decide(token, 'accept');
    expect(accepted.status).toBe(200);
    expect(accepted.body.car.status).toBe('sold');
    expect(accepted.body.winning_bid.amount).toBe(212_000);
    // recorded as admin accept-bid records it: the best bid is the winning one
    const best = (await app.request('GET', `/api/bids/car/${car.id}`)).body.bids[0];
    const { rows: sold } = await app.sql.query('SELECT status, winning_bid_id, closed_at FROM "Bílar" WHERE id = $1', [car.id]);
    expect(sold[0]).toMatchObject({ status: 'sold', winning_bid_id: best.id });
    expect(best.dealer_email).toBe('b@dealer.is');

    const mails = await outbox(app, car.id);
    expect(mails.filter((m) => m.kind === 'auction_won').map((m) => m.to_email)).toEqual(['b@dealer.is']);
    expect(mails.filter((m) => m.kind === 'sale_confirmed').map((m) => m.to_email)).toEqual(['jon@example.is']);

    mine = await page(token);
    expect(mine.body.timeline.map((t: { status: string }) => t.status)).toEqual(['active', 'closed', 'sold']);
    const at = mine.body.timeline.map((t: { at: string }) => Date.parse(t.at));
    expect([...at].sort((x, y) => x - y)).toEqual(at);

    // the event log: every bid (the proxy answer too) and every status change, never a dealer
    const { rows: events } = await app.sql.query('SELECT kind, data FROM car_events WHERE car_id = $1 ORDER BY id', [car.id]);
    expect(
      events.map((e: { kind: string; data: { status?: string; amount?: number } }) => (e.kind === 'bid' ? e.data.amount : e.data.status)),
    ).toEqual(['active', 100_000, 150_000, 200_000, 212_000, 'closed', 'sold']);
    expect(events.filter((e: { kind: string }) => e.kind === 'bid').map((e: { data: { proxy: boolean } }) => e.data.proxy)).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect(JSON.stringify(events)).not.toMatch(/dealer\.is|Bílaland/);

    expect((await decide(token, 'accept')).body.error).toBe('car_not_closed');
    expect((await decide(token, 'decline')).status).toBe(409);
  });
});

describe('sign-in', () => {
  it('answers the same for unknown plates and e-mails, and sends nothing then', async () => {
    const plate = nextPlate('U');
    await registerCar(app, { carPlate: plate, email: 'una@example.is' });
    const known = await app.request('POST', '/api/seller/login', { body: { car_plate: plate, email: 'una@example.is' } });
    const wrongEmail = await app.request('POST', '/api/seller/login', { body: { car_plate: plate, email: 'other@example.is' } });
    const unknownPlate = await app.request('POST', '/api/seller/login', { body: { car_plate: 'ZZ999', email: 'una@example.is' } });
    expect([known.status, wrongEmail.status, unknownPlate.status]).toEqual([202, 202, 202]);
    expect(wrongEmail.text).toBe(known.text);
    expect(unknownPlate.text).toBe(known.text);
    await codeFromEmail(brevo, 'una@example.is', 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(brevo, 'other@example.is')).toHaveLength(0);
    expect(mailsTo(brevo, 'una@example.is')).toHaveLength(1);

    const noCar = await app.request('POST', '/api/seller/verify', {
      body: { car_plate: 'ZZ999', email: 'una@example.is', code: '123456' },
    });
    const noCode = await app.request('POST', '/api/seller/verify', {
      body: { car_plate: plate, email: 'other@example.is', code: '123456' },
    });
    expect([noCar.status, noCar.body.error, noCode.status]).toEqual([401, 'invalid_code', 401]);
    expect(noCode.text).toBe(noCar.text);
  });

  it('codes are single use, die after 5 wrong tries and after 10 minutes, and a new login replaces the old code', async () => {
    const plate = nextPlate('C');
    const email = 'kodi@example.is';
    const car = await registerCar(app, { carPlate: plate, email });
    const verify = (code: string) => app.request('POST', '/api/seller/verify', { body: { car_plate: plate, email, code } });
    const login = () => app.request('POST', '/api/seller/login', { body: { car_plate: plate, email } });
    const wrong = (code: string) => (code === '000000' ? '111111' : '000000');

    expect((await login()).status).toBe(202);
    const first = await codeFromEmail(brevo, email, 1);
    expect((await verify(first)).status).toBe(200);
    const reused = await verify(first);
    expect([reused.status, reused.body.error]).toEqual([401, 'invalid_code']);

    expect((await login()).status).toBe(202);
    const second = await codeFromEmail(brevo, email, 2);
    for (let i = 0; i < 5; i += 1) expect((await verify(wrong(second))).status).toBe(401);
    expect((await verify(second)).text).toBe(reused.text); // dead after 5 wrong tries, same answer

    expect((await login()).status).toBe(202);
    const third = await codeFromEmail(brevo, email, 3);
    // PostgreSQL's clock decides: move the code's expiry instead of waiting 10 minutes
    const { rows } = await app.sql.query(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM seller_login_codes WHERE car_id = $1 AND consumed_at IS NULL`,
      [car.id],
    );
    expect(rows.map((r: { s: number }) => r.s)).toEqual([600]);
    await app.sql.query(
      `UPDATE seller_login_codes SET expires_at = now() - interval '1 second' WHERE car_id = $1 AND consumed_at IS NULL`,
      [car.id],
    );
    expect((await verify(third)).text).toBe(reused.text);

    // a fresh login: the previous code stops working
    // (the verify limit is 10 per plate per 15 minutes: 9 used so far)
    expect((await login()).status).toBe(202);
    const fourth = await codeFromEmail(brevo, email, 4);
    expect((await login()).status).toBe(202);
    const fifth = await codeFromEmail(brevo, email, 5);
    if (fourth !== fifth) expect((await verify(fourth)).status).toBe(401);
    else expect((await verify(fifth)).status).toBe(200);
  });

  it('limits logins per plate + e-mail (5 an hour) and verifies per plate + e-mail (10 per 15 minutes), with Retry-After', async () => {
    const plate = nextPlate('L');
    await registerCar(app, { carPlate: plate, email: 'limit@example.is' });
    // other e-mails for the plate spend their own budgets (and the caller's IP's), not the owner's
    for (let i = 0; i < 5; i += 1) {
      expect(
        (await app.request('POST', '/api/seller/login', { body: { car_plate: plate.toLowerCase(), email: `x${i}@example.is` } })).status,
      ).toBe(202);
    }
    for (let i = 0; i < 5; i += 1) {
      expect(
        (await app.request('POST', '/api/seller/login', { body: { car_plate: plate.toLowerCase(), email: 'Limit@Example.is' } })).status,
      ).toBe(202);
    }
    const limited = await app.request('POST', '/api/seller/login', { body: { car_plate: plate, email: 'limit@example.is' } });
    expect([limited.status, limited.body.error]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    for (let i = 0; i < 10; i += 1) {
      expect(
        (await app.request('POST', '/api/seller/verify', { body: { car_plate: plate, email: 'limit@example.is', code: '000000' } })).status,
      ).toBe(401);
    }
    const tooMany = await app.request('POST', '/api/seller/verify', {
      body: { car_plate: plate, email: 'limit@example.is', code: '000000' },
    });
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers.get('retry-after')).toBeTruthy();
  });
});

describe('the seller’s decisions', () => {
  async function closedCar(bids: number[], email = 'seljandi@example.is') {
    const plate = nextPlate('D');
    const car = await registerCar(app, { carPlate: plate, email });
    for (const [i, amount] of bids.entries()) expect((await bid(app, car.id, amount, `d${i}@dealer.is`)).status).toBe(201);
    const token = await signIn(app, brevo, plate, email);
    await closeNow(app, car.id);
    return { car, token };
  }

  it('declines: the car is declined for good and every bidder is told', async () => {
    const { car, token } = await closedCar([100_000, 112_000, 124_000]);
    await bid(app, car.id, 999_000, 'late@dealer.is').then((r) => expect(r.body.error).toBe('auction_closed'));
    const declined = await decide(token, 'decline');
    expect(declined.status).toBe(200);
    expect(declined.body.car.status).toBe('declined');
    const told = (await outbox(app, car.id))
      .filter((m) => m.kind === 'auction_ended_unsold')
      .map((m) => m.to_email)
      .sort();
    expect(told).toEqual(['d0@dealer.is', 'd1@dealer.is', 'd2@dealer.is']);
    expect((await decide(token, 'accept')).body.error).toBe('car_not_closed');
    expect((await decide(token, 'withdraw')).body.error).toBe('car_not_withdrawable');
    // an admin cannot revive a declined car either
    const relist = await app.request('PUT', `/api/cars/${car.id}/status`, { body: { status: 'active' }, headers: admin });
    expect(relist.body.error).toBe('invalid_status_transition');
    const listed = await app.request('GET', '/api/cars?status=declined');
    expect(listed.body.cars.map((c: { id: string }) => c.id)).toContain(car.id);
  });

  it('accept without bids is 409 no_bids; accept before the close is 409 car_not_closed', async () => {
    const { token } = await closedCar([]);
    const none = await decide(token, 'accept');
    expect([none.status, none.body.error]).toEqual([409, 'no_bids']);
    expect((await decide(token, 'decline')).status).toBe(200);

    const plate = nextPlate('E');
    const running = await registerCar(app, { carPlate: plate, email: 'running@example.is' });
    await bid(app, running.id, 100_000, 'a@dealer.is');
    const early = await signIn(app, brevo, plate, 'running@example.is');
    const notYet = await decide(early, 'accept');
    expect([notYet.status, notYet.body.error]).toEqual([409, 'car_not_closed']);
    expect((await decide(early, 'decline')).body.error).toBe('car_not_closed');
  });

  it('withdraws a running auction at once (bidders told) or a pending car, never a closed one', async () => {
    const plate = nextPlate('W');
    const car = await registerCar(app, { carPlate: plate, email: 'wd@example.is' });
    await bid(app, car.id, 100_000, 'a@dealer.is');
    await bid(app, car.id, 112_000, 'b@dealer.is');
    const token = await signIn(app, brevo, plate, 'wd@example.is');
    const withdrawn = await decide(token, 'withdraw', { reason: 'Seldi hann sjálfur' });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.car.status).toBe('withdrawn');
    expect(Date.parse(withdrawn.body.car.auction_ends_at)).toBeLessThanOrEqual(Date.now());
    expect((await bid(app, car.id, 200_000, 'c@dealer.is')).body.error).toBe('car_not_active');
    const told = (await outbox(app, car.id))
      .filter((m) => m.kind === 'auction_ended_unsold')
      .map((m) => m.to_email)
      .sort();
    expect(told).toEqual(['a@dealer.is', 'b@dealer.is']);
    const { rows } = await app.sql.query('SELECT withdraw_reason FROM "Bílar" WHERE id = $1', [car.id]);
    expect(rows[0].withdraw_reason).toBe('Seldi hann sjálfur');
    const { rows: events } = await app.sql.query(`SELECT data FROM car_events WHERE car_id = $1 AND kind = 'status'`, [car.id]);
    expect(JSON.stringify(events)).not.toContain('Seldi');
    expect((await decide(token, 'withdraw')).body.error).toBe('car_not_withdrawable');

    const pendingPlate = nextPlate('P');
    const pending = await registerCar(app, { carPlate: pendingPlate, email: 'pend@example.is' });
    expect((await app.request('PUT', `/api/cars/${pending.id}/status`, { body: { status: 'pending' }, headers: admin })).status).toBe(200);
    const pendingToken = await signIn(app, brevo, pendingPlate, 'pend@example.is');
    expect((await decide(pendingToken, 'withdraw')).body.car.status).toBe('withdrawn');
    expect((await page(pendingToken)).body.timeline.map((t: { status: string }) => t.status)).toEqual(['active', 'pending', 'withdrawn']);

    const { token: closedToken } = await closedCar([100_000]);
    const refused = await decide(closedToken, 'withdraw');
    expect([refused.status, refused.body.error]).toEqual([409, 'car_not_withdrawable']);
  });

  it('two accepts at once: exactly one sells, the other is 409, one "you won" e-mail', async () => {
    for (let round = 0; round < 4; round += 1) {
      const { car, token } = await closedCar([100_000, 112_000]);
      const answers = await Promise.all([decide(token, 'accept'), decide(token, 'accept'), decide(token, 'decline')]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
      const { rows } = await app.sql.query(`SELECT count(*)::int AS n FROM car_events WHERE car_id = $1 AND kind = 'status'`, [car.id]);
      expect(rows[0].n).toBe(3); // active, closed, and one decision
      const winners = (await outbox(app, car.id)).filter((m) => m.kind === 'auction_won' || m.kind === 'auction_ended_unsold');
      expect(winners.length).toBeGreaterThan(0);
      expect(winners.every((m) => m.kind === winners[0].kind)).toBe(true);
    }
  });

  it('the seller accepting while an admin re-lists: exactly one wins, the other gets 409', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 6; round += 1) {
      const { car, token } = await closedCar([100_000]);
      const [seller, relist] = await Promise.all([
        decide(token, 'accept'),
        app.request('PUT', `/api/cars/${car.id}/status`, { body: { status: 'active' }, headers: admin }),
      ]);
      const { rows } = await app.sql.query('SELECT status FROM "Bílar" WHERE id = $1', [car.id]);
      if (seller.status === 200) {
        expect([relist.status, relist.body.error, rows[0].status]).toEqual([409, 'invalid_status_transition', 'sold']);
        outcomes.add('seller');
      } else {
        expect([seller.status, seller.body.error, relist.status, rows[0].status]).toEqual([409, 'car_not_closed', 200, 'active']);
        outcomes.add('admin');
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('honours Idempotency-Key per seller: a retry replays, another seller’s same key does not', async () => {
    const one = await closedCar([100_000]);
    const other = await closedCar([200_000]);
    const key = { 'Idempotency-Key': 'accept-once-0001' };
    const first = await decide(one.token, 'accept', undefined, key);
    const again = await decide(one.token, 'accept', undefined, key);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const theirs = await decide(other.token, 'accept', undefined, key);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.car.id).toBe(other.car.id);
    expect(theirs.body.winning_bid.amount).toBe(200_000);
  });

  it('after decision_due_at, accept and decline are 409 decision_deadline_passed even before the sweep ran, and change nothing', async () => {
    const { car, token } = await closedCar([100_000, 112_000]);
    // The deadline passed an hour ago; the expiry sweep has not run.
    await app.sql.query(`UPDATE "Bílar" SET decision_due_at = now() - interval '1 hour' WHERE id = $1`, [car.id]);
    const state = async () => {
      const { rows } = await app.sql.query(
        `SELECT c.status, c.winning_bid_id,
                (SELECT count(*)::int FROM car_events e WHERE e.car_id = c.id) AS events,
                (SELECT count(*)::int FROM email_outbox o WHERE o.car_id = c.id) AS mails
         FROM "Bílar" c WHERE c.id = $1`,
        [car.id],
      );
      return rows[0];
    };
    const before = await state();
    expect(before.status).toBe('closed');
    for (const what of ['accept', 'decline'] as const) {
      const refused = await decide(token, what);
      expect(refused.status, what).toBe(409);
      expect(refused.body.error, what).toBe('decision_deadline_passed');
    }
    expect(await state()).toEqual(before);
    // Within the deadline the same seller still decides.
    await app.sql.query(`UPDATE "Bílar" SET decision_due_at = now() + interval '1 hour' WHERE id = $1`, [car.id]);
    expect((await decide(token, 'accept')).status).toBe(200);
  });
});

describe("the seller's page shows the test report and the price estimate", () => {
  it('null before inspection and without comparable sales; the report and the estimate once they exist', async () => {
    const make = `Skoda${Date.now() % 100000}`;
    const plate = nextPlate('Q');
    const car = await registerCar(app, {
      carPlate: plate,
      email: 'skoda@example.is',
      carMake: make,
      carModel: 'Octavia',
      year: 2019,
      mileage: 90_000,
    });
    const token = await signIn(app, brevo, plate, 'skoda@example.is');

    let mine = await page(token);
    expect(mine.status).toBe(200);
    expect(mine.body.inspection).toBeNull();
    expect(mine.body.estimate).toBeNull();
    expect(mine.body.car.has_inspection).toBe(false);

    const report = await app.request('PUT', `/api/admin/cars/${car.id}/inspection`, {
      headers: admin,
      body: { inspector: 'Viking Kontroll', inspected_at: '2026-11-20T10:00:00.000Z', odometer_km: 90_120, overall_grade: 4, damages: [] },
    });
    expect(report.status).toBe(200);

    // Five past sales of the same model, within ±2 years and ±40,000 km: prices 2.0–2.4 m.
    const prices = [2_000_000, 2_100_000, 2_200_000, 2_300_000, 2_400_000];
    for (const [i, price] of prices.entries()) {
      const { rows } = await app.sql.query(
        `INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status)
         VALUES ('S', 's@example.is', '+3547777777', '101', $1, 'Octavia', $2, 2019, $3, 'sold') RETURNING id`,
        [make, nextPlate('Q'), 80_000 + i * 5_000],
      );
      const sold = await app.sql.query(
        `INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount) VALUES ($1, 'D', 'd@dealer.is', $2) RETURNING id`,
        [rows[0].id, price],
      );
      await app.sql.query(`UPDATE "Bílar" SET winning_bid_id = $2 WHERE id = $1`, [rows[0].id, sold.rows[0].id]);
    }

    mine = await page(token);
    expect(mine.body.car.has_inspection).toBe(true);
    expect(mine.body.inspection).toMatchObject({ car_id: car.id, inspector: 'Viking Kontroll', overall_grade: 4, odometer_km: 90_120 });
    // percentiles of 2.0, 2.1, 2.2, 2.3, 2.4 m: 2.1, 2.2, 2.3 m
    expect(mine.body.estimate).toEqual({
      low: 2_100_000,
      median: 2_200_000,
      high: 2_300_000,
      sample_size: 5,
      currency: 'ISK',
      widened: false,
    });
    // the same figures as the public estimate for this car
    const pub = await app.request('GET', `/api/price-estimate?make=${make}&model=Octavia&year=2019&mileage=90000`);
    expect(pub.body.estimate).toEqual(mine.body.estimate);
  });
});
