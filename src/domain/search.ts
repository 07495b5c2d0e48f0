import type { CarStatus } from './lifecycle.js';
import type { FieldError } from '../errors.js';

/**
 * What a dealer can search cars by: the filters of `GET /api/cars` (and of its facets), which
 * a saved search stores as they are. The spec's `SearchFilters` schema declares the same
 * names (a test holds the two together); the SQL for them is in src/db/car-search.ts.
 */

export const SORTS = ['newest', 'ending_soon', 'price_asc', 'price_desc', 'mileage_asc', 'year_desc'] as const;
export type Sort = (typeof SORTS)[number];

/** Iceland's eight regions (Hagstofa Íslands' landshlutar), by the seller's postal code. */
export const REGIONS = ['capital', 'southern_peninsula', 'west', 'westfjords', 'northwest', 'northeast', 'east', 'south'] as const;
export type Region = (typeof REGIONS)[number];

export type SearchFilters = {
  status?: CarStatus;
  /** Any of these makes (compared case-insensitively). */
  make?: string[];
  model?: string;
  year_min?: number;
  year_max?: number;
  mileage_min?: number;
  mileage_max?: number;
  /** On the highest bid: a car without bids matches neither bound. */
  price_min?: number;
  price_max?: number;
  /** Any of these fuels, as the registry names them (case-insensitively). */
  fuel?: string[];
  transmission?: 'manual' | 'automatic';
  region?: Region;
  has_inspection?: boolean;
  has_photos?: boolean;
  /** Taking bids now, and the round ends within this many hours. */
  ending_within_hours?: number;
  /** Free text over make, model and plate; each word may carry a typo. */
  q?: string;
};

export const FILTER_NAMES = [
  'status',
  'make',
  'model',
  'year_min',
  'year_max',
  'mileage_min',
  'mileage_max',
  'price_min',
  'price_max',
  'fuel',
  'transmission',
  'region',
  'has_inspection',
  'has_photos',
  'ending_within_hours',
  'q',
] as const satisfies readonly (keyof SearchFilters)[];

/**
 * Postal codes per region, as inclusive ranges of the three-digit code. Reykhólahreppur (380)
 * and the Strandir codes (500–524) belong to the Westfjords; Hornafjörður (780–785) to the South.
 */
export const REGION_POSTAL_CODES: Record<Region, readonly (readonly [string, string])[]> = {
  capital: [
    ['101', '189'],
    ['200', '229'],
    ['270', '279'],
  ],
  southern_peninsula: [
    ['190', '199'],
    ['230', '269'],
  ],
  west: [
    ['300', '379'],
    ['381', '399'],
  ],
  westfjords: [
    ['380', '380'],
    ['400', '499'],
    ['500', '500'],
    ['510', '529'],
  ],
  northwest: [
    ['501', '509'],
    ['530', '579'],
  ],
  northeast: [['580', '689']],
  east: [['690', '779']],
  south: [['780', '999']],
};

/** The region of a postal code; null for anything that is not a three-digit Icelandic one. */
export function regionOf(postalCode: string | null | undefined): Region | null {
  const code = postalCode?.trim();
  if (!code || !/^\d{3}$/.test(code)) return null;
  for (const region of REGIONS) {
    if (REGION_POSTAL_CODES[region].some(([from, to]) => code >= from && code <= to)) return region;
  }
  return null;
}

/**
 * How close a word of `q` must be to a word of the car's (pg_trgm's word similarity, 0–1) to
 * match. pg_trgm's default, 0.6, misses one dropped letter in a short word (`toyta` and `toyota`
 * score 0.5); 0.45 forgives one typo in a word of five letters or more.
 */
export const WORD_SIMILARITY = 0.45;

/** Lower-cased words of a free-text query, at most `max` (the rest is ignored). */
export function queryWords(q: string, max = 5): string[] {
  return q.toLowerCase().split(/\s+/).filter(Boolean).slice(0, max);
}

/**
 * The filters in one canonical form (keys in FILTER_NAMES order, lists sorted and without
 * repeats, empty values left out), so that two requests that mean the same search compare equal:
 * a cursor is bound to it, a saved search stores it.
 */
export function canonicalFilters(filters: SearchFilters): SearchFilters {
  const out: Record<string, unknown> = {};
  for (const name of FILTER_NAMES) {
    const value = filters[name];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      const list = [...new Set(value.map((v) => v.trim()).filter(Boolean))].sort();
      if (list.length) out[name] = list;
    } else if (typeof value === 'string') {
      if (value.trim()) out[name] = value.trim();
    } else {
      out[name] = value;
    }
  }
  return out;
}

const RANGES = [
  ['year_min', 'year_max'],
  ['mileage_min', 'mileage_max'],
  ['price_min', 'price_max'],
] as const;

/**
 * What the schema cannot say of a search: a lower bound above its upper bound. `at` names
 * where the filters came from (`query` for the list, `body.filters` for a saved search).
 */
export function filterProblems(filters: SearchFilters, at: string): FieldError[] {
  return RANGES.filter(([min, max]) => filters[min] !== undefined && filters[max] !== undefined && filters[min] > filters[max]).map(
    ([min, max]) => ({ path: `${at}.${min}`, message: `${at}.${min} is above ${at}.${max}` }),
  );
}
