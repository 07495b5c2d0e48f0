import express, { type Express } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import { rateLimit } from 'express-rate-limit';
import { errorMiddleware } from './api/error-middleware.js';
import { requestContext } from './api/request-context.js';
import { createApiRouter } from './api/router.js';
import { operationGuards, rateLimitHandler } from './api/rate-limits.js';
import { handlers } from './handlers/index.js';
import type { Deps } from './api/types.js';

/** helmet/CORS → body parsing → request id + log → API router → the one error handler. */
export async function createApp(deps: Deps): Promise<Express> {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  app.set('query parser', 'simple');

  app.use(requestContext(deps.logger));
  app.use(helmet());
  app.use(
    cors({
      origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
    }),
  );
  if (config.RATE_LIMIT_ENABLED) {
    // A broad per-IP ceiling on the API; /health and the docs stay outside it.
    app.use(
      '/api',
      rateLimit({
        windowMs: 60_000,
        limit: config.RATE_LIMIT_GLOBAL_PER_MINUTE,
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        handler: rateLimitHandler,
      }),
    );
  }
  app.use(express.json({ limit: config.BODY_LIMIT }));
  app.use(await createApiRouter(deps, handlers, operationGuards(config)));
  app.use(errorMiddleware(deps.logger));
  return app;
}
