import { ApiError } from '../errors.js';
import { traceClient } from '../observability/tracing.js';

/**
 * The one fetch wrapper the outside-service clients share (Creditinfo, Brevo, RSK).
 *
 * Every request is bounded by `timeoutMs` (and, optionally, by an outer deadline signal
 * that covers several requests). A timeout, a network failure, an HTTP 5xx answer or a
 * 2xx answer whose body is not JSON becomes an `UpstreamError`, which *is* an ApiError
 * (503 `upstream_unavailable`), so one that escapes a client unhandled still produces the
 * right response. 2xx–4xx answers are returned to the caller, who knows what a 401 or 404
 * means for its service. Redirects are not followed (a key header must not travel to another
 * host); a 3xx reaches the caller as an unexpected status.
 */

export type UpstreamFailure = 'timeout' | 'network' | 'server_error' | 'bad_json';

export class UpstreamError extends ApiError {
  readonly service: string;
  readonly kind: UpstreamFailure;
  /** The HTTP status the service answered with, when it answered at all. */
  readonly upstreamStatus?: number;

  constructor(service: string, kind: UpstreamFailure, options: { upstreamStatus?: number; timeoutMs?: number; cause?: unknown } = {}) {
    super(503, 'upstream_unavailable', upstreamMessage(service, kind, options), { cause: options.cause });
    this.name = 'UpstreamError';
    this.service = service;
    this.kind = kind;
    this.upstreamStatus = options.upstreamStatus;
  }
}

function upstreamMessage(service: string, kind: UpstreamFailure, options: { upstreamStatus?: number; timeoutMs?: number }): string {
  switch (kind) {
    case 'timeout':
      return `${service} did not answer in time, try again later`;
    case 'server_error':
      return `${service} is unavailable (HTTP ${options.upstreamStatus ?? 'error'}), try again later`;
    case 'bad_json':
      return `${service} sent a malformed response, try again later`;
    case 'network':
    default:
      return `${service} could not be reached, try again later`;
  }
}

export type HttpRequest = {
  /** Human name used in errors and logs, e.g. "Creditinfo". */
  service: string;
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  timeoutMs: number;
  /** An outer deadline shared by several requests (e.g. token + lookup). */
  signal?: AbortSignal;
};

export type HttpResponse = {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for an empty body (or a non-JSON body on a 4xx answer). */
  body: unknown;
};

/** One call to an outside service; a client span `<service> <METHOD>` around it when tracing is on. */
export function requestJson(req: HttpRequest): Promise<HttpResponse> {
  return traceClient(
    req.service,
    req.method ?? 'GET',
    () => sendJson(req),
    (res) => res.status,
  );
}

async function sendJson(req: HttpRequest): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  }

  let status: number;
  let responseHeaders: Headers;
  let text: string;
  try {
    const res = await fetch(req.url, { method: req.method ?? 'GET', headers, body, signal, redirect: 'manual' });
    status = res.status;
    responseHeaders = res.headers;
    text = await res.text();
  } catch (err) {
    const kind: UpstreamFailure = signal.aborted || isTimeoutError(err) ? 'timeout' : 'network';
    throw new UpstreamError(req.service, kind, { timeoutMs: req.timeoutMs, cause: err });
  }

  if (status >= 500) {
    throw new UpstreamError(req.service, 'server_error', { upstreamStatus: status });
  }
  if (text.trim() === '') {
    return { status, headers: responseHeaders, body: null };
  }
  try {
    return { status, headers: responseHeaders, body: JSON.parse(text) as unknown };
  } catch (err) {
    if (status >= 200 && status < 300) {
      throw new UpstreamError(req.service, 'bad_json', { upstreamStatus: status, cause: err });
    }
    return { status, headers: responseHeaders, body: null };
  }
}

function isTimeoutError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** Reads `obj[key]` when obj is a plain object. */
export function field(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined;
}

export function stringField(obj: unknown, key: string): string | null {
  const v = field(obj, key);
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** Seconds from a Retry-After header (seconds or HTTP date), else the fallback. */
export function retryAfterSeconds(value: string | null | undefined, fallback: number): number {
  if (!value) return fallback;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(1, Math.ceil((date - Date.now()) / 1000));
  return fallback;
}
