import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OpenAPIBackend, type Context } from 'openapi-backend';
import { ApiError, validationFailed } from '../errors.js';
import { createAjv } from './ajv.js';
import { loadSpec } from './spec.js';
import type { Deps, HandlerContext, HandlerMap, OperationId, Reply } from './types.js';
import { fieldErrors, unacceptableValues } from './validation-errors.js';
import { idempotent } from './idempotency.js';

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
 * Path parameters reach handlers decoded (`jon%40bilar.is` → `jon@bilar.is`).
 * A segment that decodes to something containing `/` stays encoded so it
 * cannot change which route matches.
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

function send<K extends OperationId>(res: Response, reply: Reply<K>): void {
  res.status(reply.status as number);
  if ('stream' in reply) return reply.stream(res);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.contentType) res.type(reply.contentType).send(reply.body);
  else res.json(reply.body);
}

export async function createApiRouter(deps: Deps, handlers: HandlerMap, guards: OperationGuards = {}): Promise<RequestHandler> {
  const api = new OpenAPIBackend({
    definition: structuredClone(loadSpec().document),
    apiRoot: '/',
    validate: true,
    coerceTypes: true,
    // Params get coerceTypes from openapi-backend; bodies are never coerced ("100" is not 100).
    customizeAjv: (_original, ajvOptions) => createAjv(ajvOptions),
    // `quick` (public option) does two things we want: it skips the check against
    // the OpenAPI 3.0 meta-schema, which rejects valid 3.1 (`redocly lint` is the
    // spec's validator instead), and it compiles each operation's validators on
    // first use instead of every request and response validator at start — the
    // server never validates responses, and start-up time and memory drop.
    quick: true,
  });

  for (const [operationId, handler] of Object.entries(handlers) as [OperationId, HandlerMap[OperationId]][]) {
    api.register(operationId, async (c: Context, req: Request, res: Response) => {
      res.locals.operationId = operationId;
      res.locals.pathParams = c.request.params;
      for (const guard of guards[operationId] ?? []) await runMiddleware(guard, req, res);
      const unacceptable = [
        ...unacceptableValues(c.request.params, 'path'),
        ...unacceptableValues(c.request.query, 'query'),
        ...unacceptableValues(c.request.requestBody, 'body'),
      ];
      if (unacceptable.length > 0) throw validationFailed(unacceptable);
      const ctx = {
        body: c.request.requestBody,
        params: c.request.params ?? {},
        query: c.request.query ?? {},
        req,
        deps,
        log: deps.logger.child({ request_id: res.locals.requestId, operation: operationId }),
      } as HandlerContext<typeof operationId>;
      const run = () => (handler as (x: typeof ctx) => Promise<Reply<typeof operationId>>)(ctx);
      const key = req.get('idempotency-key');
      // A guard may scope keys to its caller (a seller's car), so one caller's key never replays another's answer.
      const scope = res.locals.idempotencyScope as string | undefined;
      const operation = scope ? `${operationId}:${scope}` : operationId;
      send(
        res,
        key && IDEMPOTENT.has(operationId)
          ? await idempotent(deps.db, deps.config.IDEMPOTENCY_TTL_HOURS, { operation, key, body: c.request.requestBody }, run)
          : await run(),
      );
    });
  }
  api.register({
    validationFail: async (c: Context, req: Request, res: Response) => {
      res.locals.operationId = c.operation.operationId;
      res.locals.pathParams = c.request.params;
      // Limits apply to invalid requests too, or they would be free to spam.
      for (const guard of guards[c.operation.operationId as OperationId] ?? []) await runMiddleware(guard, req, res);
      throw validationFailed(fieldErrors(c.validation.errors as never));
    },
    notFound: (c: Context) => {
      throw new ApiError(404, 'route_not_found', `No route for ${c.request.method.toUpperCase()} ${c.request.path}`);
    },
    methodNotAllowed: (c: Context) => {
      throw new ApiError(405, 'method_not_allowed', `${c.request.method.toUpperCase()} is not allowed on ${c.request.path}`);
    },
    notImplemented: (c: Context) => {
      throw new ApiError(501, 'not_implemented', `${c.operation.operationId} is not implemented yet`);
    },
  });
  // Access is enforced by the per-operation guards (src/api/guards.ts), which
  // also see the mode (AUTH_MODE, ADMIN_API_KEY); the spec's security schemes
  // document them. openapi-backend's own check is told so, instead of
  // warning that nothing checked them.
  for (const scheme of Object.keys(loadSpec().document.components?.securitySchemes ?? {})) {
    api.registerSecurityHandler(scheme, () => true);
  }
  await api.init();
  // openapi-backend rebuilds its flat list of operations (a lodash pass over the
  // whole document) several times per request: to match, to look the operation
  // up, to validate. The document never changes after init: build it once.
  const operations = api.router.getOperations();
  const operationsById = new Map(operations.map((op) => [op.operationId, op]));
  api.router.getOperations = () => operations;
  api.router.getOperation = (operationId: string) => operationsById.get(operationId);

  // Unknown query parameters are ignored, like unknown body fields: `/health?t=1`
  // or `/docs?utm_source=x` must not be a 422 (which most operations do not declare).
  const queryNames = new Map<string, string[]>(
    api.getOperations().map((op) => [
      op.operationId ?? '',
      (op.parameters ?? []).filter((p) => 'in' in p && p.in === 'query').map((p) => (p as { name: string }).name),
    ]),
  );
  const declaredQuery = (method: string, path: string, query: Record<string, unknown>): Record<string, unknown> => {
    const names = queryNames.get(api.matchOperation({ method, path, headers: {} })?.operationId ?? '') ?? [];
    return Object.fromEntries(names.filter((n) => Object.hasOwn(query, n)).map((n) => [n, query[n]]));
  };

  return (req: Request, res: Response, next: NextFunction) => {
    let path: string;
    try {
      path = decodePath(req.path);
    } catch (error) {
      next(error);
      return;
    }
    const query = declaredQuery(req.method, path, (req.query ?? {}) as Record<string, unknown>);
    api
      .handleRequest(
        { method: req.method, path, query: query as Record<string, string>, body: req.body, headers: req.headers as Record<string, string> },
        req,
        res,
      )
      .catch(next);
  };
}
