import type { Request } from 'autocannon';
import { rotating } from './load.js';

export type Scenario = {
  name: string;
  label: string;
  requests: () => Request[];
  /** a path for the n-th request, for the sequential round-trip check */
  path: (n: number) => string;
};

/** The read scenarios, over sampled cars and the seeded dealers. */
export function readScenarios(carIds: string[], dealers: string[]): Scenario[] {
  const e = (d: string) => encodeURIComponent(d);
  const make = (name: string, label: string, paths: string[]): Scenario => ({
    name,
    label,
    requests: () => rotating(paths),
    path: (n) => paths[n % paths.length],
  });
  return [
    make('cars_list', 'GET /api/cars?limit=50', ['/api/cars?limit=50']),
    make(
      'car_get',
      'GET /api/cars/{id}',
      carIds.map((id) => `/api/cars/${id}`),
    ),
    make(
      'car_bids',
      'GET /api/bids/car/{id}',
      carIds.map((id) => `/api/bids/car/${id}`),
    ),
    make(
      'dealer_bids',
      'GET /api/bids/dealer/{email}',
      dealers.map((d) => `/api/bids/dealer/${e(d)}`),
    ),
    make(
      'favorites',
      'GET /api/favorites/{email}',
      dealers.map((d) => `/api/favorites/${e(d)}`),
    ),
    make(
      'dashboard',
      'GET /api/dashboard/stats/{email}',
      dealers.map((d) => `/api/dashboard/stats/${e(d)}`),
    ),
  ];
}

export type BidTally = { statuses: Record<string, number>; accepted: string[] };

/** Bids on one car from many dealers; every body distinct, amounts rising with a counter shared by all connections. */
export function bidRequests(carId: string, counter: { amount: number; step: number; n: number }, tally: BidTally): Request[] {
  return [
    {
      method: 'POST',
      path: '/api/bids/create',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        counter.amount += counter.step;
        const dealer = counter.n++ % 200;
        return {
          ...req,
          body: JSON.stringify({
            car_id: carId,
            dealer_name: `Hot Dealer ${dealer}`,
            dealer_email: `hot${dealer}@bench.is`,
            bid_amount: counter.amount,
          }),
        };
      },
      onResponse: (status, body) => {
        tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
        if (status === 201) {
          try {
            tally.accepted.push((JSON.parse(body) as { bid_id: string }).bid_id);
          } catch {
            tally.accepted.push('(unparsable 201 body)');
          }
        }
      },
    },
  ];
}
