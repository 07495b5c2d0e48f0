import type { NextFunction, Request, Response } from 'express';
import { BackendTerminatedError, ConnectionError, StatementTimeoutError, UnexpectedStateError } from 'slonik';
import { ApiError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

const BODY_PARSER_ERRORS: Record<string, [number, ErrorCode, string]> = {
  'entity.parse.failed': [400, 'malformed_json', 'The request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'The request body is larger than this server accepts'],
  'encoding.unsupported': [415, 'unsupported_media_type', 'The request body encoding is not supported'],
  'charset.unsupported': [415, 'unsupported_media_type', 'The request body charset is not supported'],
  'request.aborted': [400, 'request_aborted', 'The request was aborted by the client'],
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionError || error instanceof BackendTerminatedError || error instanceof StatementTimeoutError) {
    return true;
  }
  const e = error as { code?: string; cause?: unknown; message?: string };
  if (typeof e?.code === 'string' && (NETWORK_CODES.has(e.code) || e.code.startsWith('08') || e.code === '57P01' || e.code === '57P03')) {
    return true;
  }
  if (error instanceof UnexpectedStateError && /connection|terminat/i.test(e.message ?? '')) return true;
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(e?.message ?? '')) return true;
  return e?.cause !== undefined && e.cause !== error && isDatabaseUnavailable(e.cause);
}

/** Anything thrown becomes an ApiError; only ApiErrors reach the wire. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const type = (error as { type?: string })?.type;
  if (type && BODY_PARSER_ERRORS[type]) {
    const [status, code, message] = BODY_PARSER_ERRORS[type];
    return new ApiError(status, code, message, { cause: error });
  }
  if (isDatabaseUnavailable(error)) {
    return new ApiError(503, 'database_unavailable', 'The database is unavailable, try again shortly', { cause: error });
  }
  const status = (error as { status?: number })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, 'bad_request', 'The request could not be read', { cause: error });
  }
  return new ApiError(500, 'internal_error', 'Something went wrong on our side; it has been logged', { cause: error });
}

export function errorMiddleware(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) {
      const cause = apiError.cause ?? error;
      logger.error('request failed', {
        request_id: res.locals.requestId,
        operation: res.locals.operationId,
        trace_id: res.locals.traceId,
        code: apiError.code,
        error: cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause),
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(apiError.headers ?? {})) res.setHeader(name, value);
    res.status(apiError.status).json(apiError.toBody());
  };
}
