import type { Config } from './config.js';
import type { Db } from './db/pool.js';
import type { Logger } from './logger.js';
import type { Services } from './integrations/index.js';
import type { EventHub } from './events/hub.js';
import type { Metrics } from './observability/metrics.js';
import type { Storage } from './storage/index.js';
import type { Slots } from './media/slots.js';

/** What the application is built from (start-up assembles it); handed in, never imported, so tests can build it. */
export type Deps = {
  config: Config;
  db: Db;
  logger: Logger;
  services: Services;
  startedAt: Date;
  /** The instance's live-event hub (src/events); absent → the stream operations answer 503. */
  events?: EventHub;
  /** Prometheus metrics, present when METRICS_TOKEN is set (GET /metrics). */
  metrics?: Metrics;
  /** Where photo bytes are stored (src/storage); createApp makes the configured one when not handed one. */
  storage: Storage;
  /** The bounded photo-processing slots (src/media/slots.ts); made by createApp when not handed. */
  photoSlots: Slots;
};
