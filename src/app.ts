import express, { type Express } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import { hasJsonBody, requireJsonBodies } from './api/content-type.js';
import { errorMiddleware } from './api/error-middleware.js';
import { operationGuards } from './api/guards.js';
import { createLimiterFactory, globalLimit } from './api/rate-limits.js';
import { reenterRequestSpan, requestContext } from './api/request-context.js';
import { refuseLongRequestTargets } from './api/request-limits.js';
import { createApiRouter } from './api/router.js';
import { handlers } from './handlers/index.js';
import type { Deps } from './deps.js';
import { createMetrics } from './observability/metrics.js';
import { tracing } from './observability/tracing.js';
import { mediaRoute } from './api/media-route.js';
import { createStorage } from './storage/index.js';
import { createSlots } from './media/slots.js';

/** What createApp needs; the photo store and processing slots are made from the config when not handed in. */
export type AppDeps = Omit<Deps, 'storage' | 'photoSlots'> & Partial<Pick<Deps, 'storage' | 'photoSlots'>>;

/** long-target refusal → request id + log → helmet/CORS → rate limit → JSON body → API router → the one error handler. */
export async function createApp(given: AppDeps): Promise<Express> {
  const { config } = given;
  const storage = given.storage ?? (await createStorage(config));
  const photoSlots = given.photoSlots ?? createSlots(config.PHOTO_PROCESSING_CONCURRENCY, config.PHOTO_QUEUE_LENGTH);
  let deps: Deps = { ...given, storage, photoSlots };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  app.set('query parser', 'simple');
  // Express hashes every body for a weak ETag (SHA-1 of each JSON answer); no
  // client here revalidates with If-None-Match, and the API's reads change with
  // every bid, so the hash is pure cost.
  app.set('etag', false);
  const limiter = createLimiterFactory(config, deps.db);
  // Recorded only when someone can read them (METRICS_TOKEN set): otherwise /metrics is a 404.
  const metrics = deps.metrics ?? (config.METRICS_TOKEN ? createMetrics({ db: deps.db, events: deps.events }) : undefined);
  deps = { ...deps, metrics };

  // First: a refused target costs nothing further (not even its log line's masking).
  app.use(refuseLongRequestTargets);
  app.use(requestContext(deps.logger, metrics));
  app.use(helmet());
  app.use(
    cors({
      origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed'],
    }),
  );
  // The disk store's photos; on s3 the URLs in answers point at the bucket (or its CDN).
  if (storage.driver === 'disk') app.use('/media', mediaRoute(storage));
  // A broad per-IP ceiling on the API; /health and the docs stay outside it.
  if (config.RATE_LIMIT_ENABLED) app.use('/api', globalLimit(config, limiter));
  app.use(requireJsonBodies);
  app.use(express.json({ limit: config.BODY_LIMIT, type: hasJsonBody }));
  if (tracing()) app.use(reenterRequestSpan);
  app.use(await createApiRouter(deps, handlers, operationGuards(config, deps.logger, limiter, deps.db)));
  app.use(errorMiddleware(deps.logger));
  return app;
}
