import type { HandlerMap } from '../api/types.js';
import { bidHandlers } from './bids.js';
import { carHandlers } from './cars.js';
import { dashboardHandlers } from './dashboard.js';
import { dealerHandlers } from './dealers.js';
import { docsHandlers } from './docs.js';
import { favoriteHandlers } from './favorites.js';
import { statusHandlers } from './status.js';
import { systemHandlers } from './system.js';

/** Every operationId of openapi.yaml, bound to its handler; the type makes a missing one a compile error. */
export const handlers: HandlerMap = {
  ...systemHandlers,
  ...statusHandlers,
  ...carHandlers,
  ...bidHandlers,
  ...favoriteHandlers,
  ...dashboardHandlers,
  ...dealerHandlers,
  ...docsHandlers,
} as HandlerMap;
