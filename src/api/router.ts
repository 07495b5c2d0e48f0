import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OpenAPIBackend } from 'openapi-backend';
import { ApiError, validationFailed } from '../errors.js';
import { createRequestValidators } from './request-validation.js';
import { compileRoutes } from './routes.js';
import { createSerializers, type Serialize } from './serializers.js';
import { loadSpec } from './spec.js';
import type { Deps } from '../deps.js';
import type { HandlerContext, HandlerMap, OperationId, Reply } from './types.js';
import { fieldErrors, unacceptableValues } from './validation-errors.js';
import { idempotent } from './idempotency.js';
import { principalOf } from './principal.js';
import { isMultipart } from './content-type.js';

/** Writes a client may safely retry with an Idempotency-Key header. */
const IDEMPOTENT = new Set<OperationId>(['registerCar', 'createBid', 'sellerAccept', 'sellerDecline', 'sellerWithdraw']);

/** Per-operation middleware (rate limiters, access checks) run after routing, before validation. */
export type OperationGuards = Partial<Record<OperationId, RequestHandler[]>>;

function runMiddleware(mw: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void mw(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
  });
}

/**
 * Path parameters reach handlers decoded (`jon%40bilar.is` → `jon@bilar.is`),
 * once (`%2540` is `%40`). A segment that decodes to something containing `/`
 * stays encoded so it cannot change which route matches.
 */
function decodePath(path: string): string {
  try {
    return path
      .split('/')
      .map((segment) => {
        const decoded = decodeURIComponent(segment);
        return decoded.includes('/') ? segment : decoded;
      })
      .join('/');
  } catch {
    throw new ApiError(400, 'malformed_path', 'The request path has broken percent-encoding');
  }
}

/**
 * Whose Idempotency-Key a request carries: the seller's car (set by the seller guard), the
 * dealer of a token, the admin, or else (anonymous, AUTH_MODE=off) the client's address.
 */
function callerScope(req: Request, res: Response): string {
  const guarded = res.locals.idempotencyScope as string | undefined;
  if (guarded) return guarded;
  const caller = principalOf(req);
  if (caller.kind === 'dealer') return `dealer:${caller.email}`;
  if (caller.kind === 'admin') return 'admin';
  return `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * The crash test's hook (TEST_EXIT_AFTER_IDEMPOTENT_COMMIT): the process dies as a crash
 * would, after the commit and before the answer. Never outside development and test.
 */
function crashAfterCommit(deps: Deps): (() => void) | undefined {
  if (!deps.config.TEST_EXIT_AFTER_IDEMPOTENT_COMMIT || deps.config.NODE_ENV === 'production') return undefined;
  return () => process.kill(process.pid, 'SIGKILL');
}

function send<K extends OperationId>(res: Response, reply: Reply<K>, serializer: (status: number) => Serialize | null): void {
  res.status(reply.status);
  if ('stream' in reply) {
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    // no-transform: a proxy must not compress or re-chunk it; X-Accel-Buffering: nginx must not buffer it.
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.socket?.setNoDelay(true);
    res.setTimeout(0);
    res.flushHeaders();
    return reply.stream(res);
  }
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.status === 204) {
    res.end();
    return;
  }
  if (reply.contentType) {
    res.type(reply.contentType).send(reply.body);
    return;
  }
  const serialize = serializer(reply.status);
  if (serialize) res.type('application/json').send(serialize(reply.body));
  else res.json(reply.body);
}

export async function createApiRouter(deps: Deps, handlers: HandlerMap, guards: OperationGuards = {}): Promise<RequestHandler> {
  // openapi-backend reads the spec and resolves its $refs (public API, once at
  // start); matching and validation are ours, compiled from what it returns:
  // its per-request matching built a RegExp per operation per request.
  const api = new OpenAPIBackend({
    definition: structuredClone(loadSpec().document),
    apiRoot: '/',
    validate: false,
    // skips the check against the OpenAPI 3.0 meta-schema, which rejects valid
    // 3.1 (`redocly lint` is the spec's validator instead), and compiles no validators
    quick: true,
  });
  await api.init();

  const validatorFor = createRequestValidators();
  const serializersFor = createSerializers();
  const operations = api.getOperations().map((op) => {
    const operationId = op.operationId as OperationId;
    return { operationId, handler: handlers[operationId], ...validatorFor(op), serializer: serializersFor(op) };
  });
  const match = compileRoutes(api.getOperations().map((op, i) => ({ method: op.method, path: op.path, value: operations[i] })));

  async function handle(req: Request, res: Response): Promise<void> {
    const path = decodePath(req.path);
    const found = match(req.method, path);
    if (found.kind === 'not_found') throw new ApiError(404, 'route_not_found', `No route for ${req.method.toUpperCase()} ${path}`);
    if (found.kind === 'method_not_allowed') {
      throw new ApiError(405, 'method_not_allowed', `${req.method.toUpperCase()} is not allowed on ${path}`);
    }
    const { operationId, handler, validate, queryNames, headerNames, serializer, multipart, strictQuery } = found.value;
    res.locals.operationId = operationId;
    res.locals.pathParams = found.params;
    // Limits apply to invalid requests too, or they would be free to spam.
    for (const guard of guards[operationId] ?? []) await runMiddleware(guard, req, res);

    if (isMultipart(req) !== multipart && (multipart || req.method !== 'GET')) {
      throw new ApiError(
        415,
        'unsupported_media_type',
        multipart ? 'This operation takes a multipart/form-data upload' : 'Request bodies must be JSON (Content-Type: application/json)',
      );
    }
    // Unknown query parameters are ignored, like unknown body fields: `/health?t=1`
    // or `/docs?utm_source=x` must not be a 422 (which most operations do not declare).
    const rawQuery = (req.query ?? {}) as Record<string, unknown>;
    const query: Record<string, unknown> = {};
    for (const name of queryNames) if (Object.hasOwn(rawQuery, name)) query[name] = rawQuery[name];
    if (strictQuery) {
      const undeclared = Object.keys(rawQuery).filter((name) => !queryNames.includes(name));
      if (undeclared.length) {
        throw validationFailed(
          undeclared.map((name) => ({ path: `query.${name}`, message: `query.${name} is not a parameter of this operation` })),
        );
      }
    }
    const header: Record<string, unknown> = {};
    for (const name of headerNames) if (req.headers[name] !== undefined) header[name] = req.headers[name];
    const params: Record<string, unknown> = found.params;
    const body: unknown = req.body;
    const invalid = validate({ path: params, query, header, body });
    if (invalid) throw validationFailed(fieldErrors(invalid));
    const unacceptable = [
      ...unacceptableValues(params, 'path'),
      ...unacceptableValues(query, 'query'),
      ...unacceptableValues(body, 'body'),
    ];
    if (unacceptable.length > 0) throw validationFailed(unacceptable);
    if (!handler) throw new ApiError(501, 'not_implemented', `${operationId} is not implemented yet`);

    const ctx = {
      body,
      params,
      query,
      req,
      deps,
      log: deps.logger.child(
        res.locals.traceId
          ? { request_id: res.locals.requestId, operation: operationId, trace_id: res.locals.traceId }
          : { request_id: res.locals.requestId, operation: operationId },
      ),
    } as HandlerContext<typeof operationId>;
    const call = (x: typeof ctx) => (handler as (x: typeof ctx) => Promise<Reply<typeof operationId>>)(x);
    const key = req.get('idempotency-key');
    if (!key || !IDEMPOTENT.has(operationId)) {
      send(res, await call(ctx), serializer);
      return;
    }
    // Under a key the handler's queries run in the key's transaction: claim, writes and answer commit together.
    const reply = await idempotent(
      deps.db,
      {
        ttlHours: deps.config.IDEMPOTENCY_TTL_HOURS,
        waitMs: Math.max(100, Math.floor(deps.config.DB_STATEMENT_TIMEOUT_MS / 2)),
        onCommitted: crashAfterCommit(deps),
      },
      { operation: operationId, scope: callerScope(req, res), key, body },
      (db) => call({ ...ctx, deps: { ...deps, db } }),
    );
    send(res, reply, serializer);
  }

  return (req: Request, res: Response, next: NextFunction) => {
    handle(req, res).catch(next);
  };
}
