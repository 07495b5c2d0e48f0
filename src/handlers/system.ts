import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiError } from '../errors.js';
import type { Handler } from '../api/types.js';
import { checkReadiness } from '../usecases/readiness.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const getApiInfo: Handler<'getApiInfo'> = ({ deps }) => ({
  status: 200,
  body: {
    success: true,
    message: 'Kaggi API',
    version,
    environment: deps.config.NODE_ENV,
    timestamp: new Date().toISOString(),
  },
});

/** Liveness: answers as long as the process does; never touches the database. */
const getHealth: Handler<'getHealth'> = () => ({
  status: 200,
  body: { status: 'OK', timestamp: new Date().toISOString(), uptime: process.uptime() },
});

const getReadiness: Handler<'getReadiness'> = async ({ deps }) => {
  await checkReadiness(deps);
  return { status: 200, body: { status: 'ready', database: 'up', migrations: 'applied' } };
};

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Prometheus metrics, for the operator's scraper only: without METRICS_TOKEN
 * the endpoint does not exist (404, as any unknown path), and with it only
 * that token as a bearer token gets an answer.
 */
const getMetrics: Handler<'getMetrics'> = async ({ deps, req }) => {
  const token = deps.config.METRICS_TOKEN;
  if (!token || !deps.metrics) throw new ApiError(404, 'route_not_found', 'No route for GET /metrics');
  const given = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1]?.trim();
  if (!given || !sameText(given, token)) {
    throw new ApiError(401, 'unauthorized', 'GET /metrics needs the metrics token (Authorization: Bearer <METRICS_TOKEN>)', {
      headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
    });
  }
  return { status: 200, body: await deps.metrics.render(), contentType: deps.metrics.contentType };
};

export const systemHandlers = { getApiInfo, getHealth, getReadiness, getMetrics };
