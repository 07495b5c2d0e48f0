import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { nextPlate } from '../helpers/fixtures.js';
import { chooseEstimate, roundToThousand } from '../../src/domain/estimate.js';

/** percentile_cont, computed here independently: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const expected = (prices: number[], widened: boolean) => ({
  low: roundToThousand(percentile(prices, 0.25)),
  median: roundToThousand(percentile(prices, 0.5)),
  high: roundToThousand(percentile(prices, 0.75)),
  sample_size: prices.length,
  currency: 'ISK',
  widened,
});

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ RATE_LIMIT_ESTIMATE_PER_HOUR: '1000' });
});
afterAll(async () => app?.close());

/** A past sale: a sold car whose winning bid is `price` (or, with `status`, a car that is not a sale). */
async function sale(make: string, model: string, year: number, mileage: number, price: number, status = 'sold', winner = true) {
  const { rows } = await app.sql.query(
    `INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status)
     VALUES ('Seljandi', 'seller@example.is', '+3547777777', '101', $1, $2, $3, $4, $5, $6) RETURNING id`,
    [make, model, nextPlate('E'), year, mileage, status],
  );
  const car = rows[0].id;
  const bid = await app.sql.query(
    `INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount) VALUES ($1, 'D', 'd@dealer.is', $2) RETURNING id`,
    [car, price],
  );
  if (winner) await app.sql.query(`UPDATE "Bílar" SET winning_bid_id = $2 WHERE id = $1`, [car, bid.rows[0].id]);
}

const estimate = (query: string) => app.request('GET', `/api/price-estimate?${query}`);

describe('GET /api/price-estimate', () => {
  it('gives the 25th/50th/75th percentiles of comparable sales, rounded to 1,000 kr.', async () => {
    // inside ±2 years and ±40,000 km of 2018 / 80,000 km
    const inside: [number, number, number][] = [
      [2016, 40_000, 1_950_300],
      [2017, 60_000, 2_110_700],
      [2018, 80_000, 2_385_000],
      [2018, 95_000, 2_240_450],
      [2019, 110_000, 2_501_900],
      [2020, 120_000, 2_730_200],
      [2020, 81_000, 2_655_499],
    ];
    for (const [year, mileage, price] of inside) await sale(' Toyota ', 'YARIS', year, mileage, price);
    // not comparable in the first window, or not a sale at all
    await sale('Toyota', 'Yaris', 2021, 80_000, 9_000_000); // 3 years off
    await sale('Toyota', 'Yaris', 2018, 121_000, 9_000_000); // 41,000 km off
    await sale('Toyota', 'Corolla', 2018, 80_000, 9_000_000); // another model
    await sale('Toyota', 'Yaris', 2018, 80_000, 9_000_000, 'active'); // still for sale
    await sale('Toyota', 'Yaris', 2018, 80_000, 9_000_000, 'closed'); // not sold
    await sale('Toyota', 'Yaris', 2018, 80_000, 9_000_000, 'sold', false); // sold without a winning bid

    const res = await estimate('make=toyota&model=%20yaris%20&year=2018&mileage=80000');
    expect(res.status).toBe(200);
    const prices = inside.map(([, , p]) => p);
    expect(res.body).toEqual({ success: true, estimate: expected(prices, false) });
    // by hand: p25 = (2,110,700 + 2,240,450) / 2 = 2,175,575; p75 = (2,501,900 + 2,655,499) / 2 = 2,578,699.5
    expect(res.body.estimate).toMatchObject({ low: 2_176_000, median: 2_385_000, high: 2_579_000, sample_size: 7 });
  });

  it('widens once to ±4 years and ±80,000 km when the first window has fewer than 5 sales', async () => {
    const narrow: [number, number, number][] = [
      [2015, 150_000, 1_200_000],
      [2015, 170_000, 1_100_000],
      [2016, 160_000, 1_300_000],
    ];
    const wider: [number, number, number][] = [
      [2012, 150_000, 700_000], // 3 years off
      [2019, 150_000, 2_000_000], // 4 years off
      [2015, 225_000, 900_000], // 75,000 km off
    ];
    for (const [year, mileage, price] of [...narrow, ...wider]) await sale('Skoda', 'Octavia', year, mileage, price);
    await sale('Skoda', 'Octavia', 2010, 150_000, 100_000); // 5 years off: never
    await sale('Skoda', 'Octavia', 2015, 240_000, 100_000); // 90,000 km off: never

    const res = await estimate('make=Skoda&model=Octavia&year=2015&mileage=150000');
    const prices = [...narrow, ...wider].map(([, , p]) => p);
    expect(res.body).toEqual({ success: true, estimate: expected(prices, true) });
    expect(res.body.estimate.sample_size).toBe(6);
  });

  it('says insufficient_data when even the wider window has fewer than 5 sales', async () => {
    for (const [year, mileage] of [
      [2020, 30_000],
      [2021, 35_000],
      [2017, 30_000],
      [2020, 100_000],
    ]) {
      await sale('Dacia', 'Duster', year, mileage, 3_000_000);
    }
    const res = await estimate('make=Dacia&model=Duster&year=2020&mileage=30000');
    expect(res.body).toEqual({ success: true, estimate: null, reason: 'insufficient_data' });
    const nothing = await estimate('make=Trabant&model=601&year=1980&mileage=1000');
    expect(nothing.body).toEqual({ success: true, estimate: null, reason: 'insufficient_data' });
  });

  it('missing or invalid parameters → 422', async () => {
    for (const q of [
      'make=Toyota&model=Yaris&year=2018',
      'make=&model=Yaris&year=2018&mileage=1',
      'make=Toyota&model=Yaris&year=abc&mileage=1',
      'make=Toyota&model=Yaris&year=2018&mileage=-5',
    ]) {
      expect((await estimate(q)).status, q).toBe(422);
    }
  });
});

describe('the widening rule', () => {
  const w = (count: number, p = 1_000_000) => ({ count, p25: p, p50: p, p75: p });
  it('uses the narrow window from 5 sales, the wide one below, none below 5 in both', () => {
    expect(chooseEstimate(w(5, 1_000_400), w(9))).toMatchObject({ sample_size: 5, median: 1_000_000, widened: false });
    expect(chooseEstimate(w(4), w(5, 2_000_500))).toMatchObject({ sample_size: 5, median: 2_001_000, widened: true });
    expect(chooseEstimate(w(4), w(4))).toBeNull();
    expect(chooseEstimate(w(0, 0), w(0, 0))).toBeNull();
  });
});

describe('rate limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ RATE_LIMIT_ESTIMATE_PER_HOUR: '3' });
  });
  afterAll(async () => limited?.close());

  it('answers 429 with Retry-After after RATE_LIMIT_ESTIMATE_PER_HOUR requests per IP', async () => {
    const path = '/api/price-estimate?make=Toyota&model=Yaris&year=2018&mileage=80000';
    for (let i = 0; i < 3; i++) expect((await limited.request('GET', path)).status).toBe(200);
    const res = await limited.request('GET', path);
    expect([res.status, res.body.error]).toEqual([429, 'rate_limited']);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
