import type { components } from '../generated/api.js';

/**
 * Every code an error body's `error` may carry: the `ErrorCode` enum of the spec, so a code
 * the spec does not list is a compile error.
 */
export type ErrorCode = components['schemas']['ErrorCode'];

/**
 * The one error type of the API. Anything thrown anywhere ends up as this
 * shape on the wire (see api/error-middleware.ts); `detail` mirrors `message`
 * because some frontend pages read one and some the other.
 */
export type FieldError = { path: string; message: string };

export type ErrorBody = {
  success: false;
  error: ErrorCode;
  message: string;
  detail: string;
  errors?: FieldError[];
  [extra: string]: unknown;
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly errors?: FieldError[];
  /** Extra top-level fields a client may act on (e.g. `min_next_bid`). */
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: {
      errors?: FieldError[];
      extra?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = options.errors;
    this.extra = options.extra;
    this.headers = options.headers;
  }

  toBody(): ErrorBody {
    return {
      success: false,
      error: this.code,
      message: this.message,
      detail: this.message,
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extra,
    };
  }
}

export const validationFailed = (errors: FieldError[]): ApiError =>
  new ApiError(422, 'validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);

export const conflict = (code: ErrorCode, message: string, extra?: Record<string, unknown>): ApiError =>
  new ApiError(409, code, message, { extra });

export const notConfigured = (service: string): ApiError =>
  new ApiError(503, 'not_configured', `${service} is not configured on this server`);

export const upstreamUnavailable = (service: string, message?: string, cause?: unknown): ApiError =>
  new ApiError(503, 'upstream_unavailable', message ?? `${service} is unavailable, try again later`, { cause });

/** The stable code of any error, for logs and audit rows. */
export const errorCode = (error: unknown): ErrorCode => (error instanceof ApiError ? error.code : 'internal_error');

/**
 * Runs `task`; when it fails, `record` writes down why (an audit row) before
 * the error goes on to the error middleware unchanged.
 */
export async function recordingFailure<T>(task: () => Promise<T>, record: (code: ErrorCode) => Promise<unknown>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    await record(errorCode(error));
    throw error;
  }
}
