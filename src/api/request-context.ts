import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { accessLogOf, type Logger } from '../logger.js';
import { maskText } from '../domain/privacy.js';
import type { Metrics } from '../observability/metrics.js';
import { tracing, type RequestSpan } from '../observability/tracing.js';

const safeDecode = (path: string) => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when it is sane),
 * echoes it, and when the response is done writes one log line, records its
 * duration (metrics) and ends its span (tracing). With tracing on, the rest of
 * the request runs inside its span.
 */
export function requestContext(logger: Logger, metrics?: Metrics) {
  const access = accessLogOf(logger);
  const tracer = tracing();
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    metrics?.started();
    const span = tracer?.startRequest(req.method, req.headers);
    if (span) {
      res.locals.span = span;
      res.locals.traceId = span.traceId;
    }
    let logged = false;
    // 'finish' when the answer is complete; 'close' alone when the client hung up first —
    // the usual end of a live stream, which gets its line (with its whole duration) too.
    const done = () => {
      if (logged) return;
      logged = true;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const operation = res.locals.operationId as string | undefined;
      metrics?.finished(operation, req.method, res.statusCode, ms / 1000);
      span?.end(operation, res.statusCode);
      // One access line per request at `info`, the default (LOG_LEVEL=warn silences it).
      // winston formats every entry before its transport drops the ones below the
      // level, so the line is not even built when its level is off.
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      access(level, {
        request_id: requestId,
        method: req.method,
        // decoded first, so `jon%40example.is` is recognised (and masked) as an e-mail
        path: maskText(safeDecode(req.path)),
        operation,
        status: res.statusCode,
        duration_ms: Math.round(ms * 10) / 10,
        trace_id: span?.traceId,
      });
    };
    res.on('finish', done);
    res.on('close', done);
    if (span) span.enter(next);
    else next();
  };
}

/**
 * The request's span again as the active one: the body parser calls `next`
 * from the request stream's events, outside the context `requestContext`
 * entered, and the router's queries must still be children of the request.
 */
export function reenterRequestSpan(_req: Request, res: Response, next: NextFunction): void {
  const span = res.locals.span as RequestSpan | undefined;
  if (span) span.enter(next);
  else next();
}
