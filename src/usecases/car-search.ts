import type { Deps } from '../deps.js';
import { decodeCursor, pageOf } from '../domain/keyset.js';
import { canonicalFilters, type SearchFilters, type Sort } from '../domain/search.js';
import { decodeSearchCursor, encodeSearchCursor } from '../domain/search-cursor.js';
import type { Principal } from '../domain/access.js';
import { listCarsNewestFirst } from '../db/cars.js';
import { searchCars, searchFacets } from '../db/car-search.js';
import { mediaBase } from '../storage/index.js';
import { carView } from './cars.js';

type SearchDeps = Pick<Deps, 'db' | 'config' | 'storage'>;

/**
 * A page of cars. Without a search (no filter but `status`, the default order) it is the list
 * as it always was, with its cursor of old, so existing clients see exactly what they saw; any
 * filter or sort makes it a search, whose cursor carries its sort key and is bound to the search.
 */
export async function listCars(
  deps: SearchDeps,
  search: { filters: SearchFilters; sort: Sort; cursor: string | null; limit: number },
  viewer: Principal,
) {
  const filters = canonicalFilters(search.filters);
  const view = carView(viewer);
  const media = mediaBase(deps);
  if (search.sort === 'newest' && Object.keys(filters).every((name) => name === 'status')) {
    const after = search.cursor ? decodeCursor(search.cursor) : null;
    return pageOf(await listCarsNewestFirst(deps.db, { status: filters.status, after, limit: search.limit }, view, media), search.limit);
  }
  const after = search.cursor ? decodeSearchCursor(search.cursor, search.sort, filters) : null;
  const page = await searchCars(deps.db, { filters, sort: search.sort, after, limit: search.limit }, view, media);
  return {
    items: page.cars.slice(0, search.limit),
    next_cursor: page.last ? encodeSearchCursor(search.sort, filters, page.last) : null,
  };
}

/** The counts of a search for a filter panel, over the cars `viewer` may see. */
export async function carFacets(deps: SearchDeps, filters: SearchFilters, viewer: Principal) {
  const { total, counts } = await searchFacets(deps.db, canonicalFilters(filters), carView(viewer));
  return { total, facets: { ...counts, year: counts.year.map(({ value, count }) => ({ value: Number(value), count })) } };
}
