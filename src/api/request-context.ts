import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { accessLogOf, type Logger } from '../logger.js';
import { maskText } from '../domain/privacy.js';

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
 * echoes it, and writes one log line when the response is done.
 */
export function requestContext(logger: Logger) {
  const access = accessLogOf(logger);
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    let logged = false;
    // 'finish' when the answer is complete; 'close' alone when the client hung up first —
    // the usual end of a live stream, which gets its line (with its whole duration) too.
    const done = () => {
      if (logged) return;
      logged = true;
      // One access line per request at `info`, the default (LOG_LEVEL=warn silences it).
      // winston formats every entry before its transport drops the ones below the
      // level, so the line is not even built when its level is off.
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      access(level, {
        request_id: requestId,
        method: req.method,
        // decoded first, so `jon%40example.is` is recognised (and masked) as an e-mail
        path: maskText(safeDecode(req.path)),
        operation: res.locals.operationId,
        status: res.statusCode,
        duration_ms: Math.round(ms * 10) / 10,
      });
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
