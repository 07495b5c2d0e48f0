import type { Request, Response } from 'express';
import type { operations } from '../../generated/api.js';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { Services } from '../integrations/index.js';
import type { EventHub } from '../events/hub.js';
import type { Metrics } from '../observability/metrics.js';
import type { Storage } from '../storage/index.js';
import type { Slots } from '../media/slots.js';

export type OperationId = keyof operations;

/** Everything a handler may use; handed in, never imported, so tests can build it. */
export type Deps = {
  config: Config;
  db: Db;
  logger: Logger;
  services: Services;
  startedAt: Date;
  /** The instance's live-event hub (src/events); absent → the stream operations answer 503. */
  events?: EventHub;
  /** Prometheus metrics, present when METRICS_TOKEN is set (GET /metrics). */
  metrics?: Metrics;
  /** Where photo bytes are stored (src/storage); createApp makes the configured one when not handed one. */
  storage: Storage;
  /** The bounded photo-processing slots (src/media/slots.ts); made by createApp when not handed. */
  photoSlots: Slots;
};

type Content<T> = T extends { content: infer C } ? C[keyof C] : never;
type Responses<K extends OperationId> = operations[K]['responses'];
type SuccessStatus<K extends OperationId> = Extract<keyof Responses<K>, 200 | 201 | 202 | 204>;

/** A reply that takes the response over (Server-Sent Events): the router sets the status and calls `stream`. */
export type StreamReply = { status: 200; stream: (res: Response) => void };
type Streaming<K extends OperationId> = Responses<K> extends { 200: { content: { 'text/event-stream': unknown } } } ? StreamReply : never;

/** What a handler returns: one of the success responses the spec declares for it (or a stream, where it declares one). */
export type Reply<K extends OperationId> =
  | Streaming<K>
  | {
      [S in SuccessStatus<K>]: {
        status: S;
        /** A 204 has no body. */
        body: S extends 204 ? undefined : Content<Responses<K>[S]>;
        headers?: Record<string, string>;
        contentType?: string;
      };
    }[SuccessStatus<K>];

type BodyOf<K extends OperationId> = operations[K] extends { requestBody?: infer R } ? Content<NonNullable<R>> : undefined;
type ParamsOf<K extends OperationId, Where extends 'path' | 'query'> = operations[K]['parameters'] extends infer P
  ? P extends Record<Where, infer X>
    ? NonNullable<X>
    : Record<string, never>
  : never;

export type HandlerContext<K extends OperationId> = {
  body: BodyOf<K>;
  params: ParamsOf<K, 'path'>;
  query: ParamsOf<K, 'query'>;
  req: Request;
  deps: Deps;
  log: Logger;
};

export type Handler<K extends OperationId> = (ctx: HandlerContext<K>) => Promise<Reply<K>> | Reply<K>;
export type HandlerMap = { [K in OperationId]: Handler<K> };
