import type { Request, Response } from 'express';
import type { operations } from '../../generated/api.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';

export type OperationId = keyof operations;

type Content<T> = T extends { content: infer C } ? C[keyof C] : never;
type Responses<K extends OperationId> = operations[K]['responses'];
type SuccessStatus<K extends OperationId> = Extract<keyof Responses<K>, 200 | 201 | 202 | 204>;

/** A reply that takes the response over (Server-Sent Events): the router sets the status and the headers, then calls `stream`. */
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
