import type { Deps } from '../deps.js';
import { ApiError, conflict, validationFailed } from '../errors.js';
import { MAX_SAVED_SEARCHES, type Alert } from '../domain/alerts.js';
import { canonicalFilters, filterProblems, queryWords, type SearchFilters } from '../domain/search.js';
import { lockDealer } from '../db/dealers.js';
import { countSavedSearches, deleteSavedSearch, insertSavedSearch, listSavedSearches } from '../db/saved-searches.js';

/**
 * A dealer's saved searches (docs/alerts.md): the filters of the list, checked as the list
 * checks them and stored in their canonical form, so the alerts match exactly what
 * `GET /api/cars` with those filters shows. The alerts themselves are the job's
 * (src/auctions/alerts.ts).
 */

type SearchDeps = Pick<Deps, 'db'>;

export function savedSearches(deps: SearchDeps, dealerId: string) {
  return listSavedSearches(deps.db, dealerId);
}

export async function saveSearch(deps: SearchDeps, dealerId: string, search: { name: string; filters: SearchFilters; alert: Alert }) {
  const problems = filterProblems(search.filters, 'body.filters');
  if (problems.length) throw validationFailed(problems);
  const name = search.name.trim();
  if (!name) throw validationFailed([{ path: 'body.name', message: 'body.name must not be blank' }]);
  const filters = canonicalFilters(search.filters);
  return deps.db.transaction(async (tx) => {
    // The dealer's row lock orders two saves at once: the second counts after the first has committed.
    if (!(await lockDealer(tx, dealerId))) throw new ApiError(401, 'unauthorized', 'This dealer is no longer on file');
    if ((await countSavedSearches(tx, dealerId)) >= MAX_SAVED_SEARCHES) {
      throw conflict('saved_search_limit', `You already have ${MAX_SAVED_SEARCHES} saved searches; delete one first`);
    }
    return insertSavedSearch(tx, { dealerId, name, filters, qWords: filters.q ? queryWords(filters.q) : [], alert: search.alert });
  });
}

export async function removeSavedSearch(deps: SearchDeps, dealerId: string, searchId: string): Promise<void> {
  if (!(await deleteSavedSearch(deps.db, dealerId, searchId))) throw new ApiError(404, 'not_found', 'Saved search not found');
}
