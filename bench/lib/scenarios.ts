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
    make('car_get', 'GET /api/cars/{id}', carIds.map((id) => `/api/cars/${id}`)),
    make('car_bids', 'GET /api/bids/car/{id}', carIds.map((id) => `/api/bids/car/${id}`)),
    make('dealer_bids', 'GET /api/bids/dealer/{email}', dealers.map((d) => `/api/bids/dealer/${e(d)}`)),
    make('favorites', 'GET /api/favorites/{email}', dealers.map((d) => `/api/favorites/${e(d)}`)),
    make('dashboard', 'GET /api/dashboard/stats/{email}', dealers.map((d) => `/api/dashboard/stats/${e(d)}`)),
  ];
}
