import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, type ErrorCode } from '../errors.js';

/** No route of this API needs a longer request target (path and query); browsers and proxies stop near here too. */
export const MAX_REQUEST_TARGET = 2048;

const tooLong = (req: IncomingMessage) => (req.url?.length ?? 0) > MAX_REQUEST_TARGET;

function refuseTooLong(res: ServerResponse): void {
  const body = JSON.stringify(
    new ApiError(414, 'uri_too_long', `The request target is longer than ${MAX_REQUEST_TARGET} characters`).toBody(),
  );
  res.writeHead(414, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * 414 for a request target over MAX_REQUEST_TARGET, before anything else reads
 * it (the access log's masking, routing, percent-decoding), on every path: a
 * long target is then cheap to refuse whatever the later steps cost. The first
 * middleware of the app; `createHttpServer` refuses even before Express.
 */
export function refuseLongRequestTargets(req: Request, res: Response, next: NextFunction): void {
  if (tooLong(req)) refuseTooLong(res);
  else next();
}

/**
 * The HTTP server of an app: a request target over the limit is answered before
 * Express sees the request (Express's own per-request set-up costs several times
 * the refusal), and a request Node cannot parse is answered in the error shape.
 */
export function createHttpServer(app: RequestListener): Server {
  const server = createServer((req, res) => {
    if (tooLong(req)) refuseTooLong(res);
    else app(req, res);
  });
  answerClientErrors(server);
  return server;
}

const CLIENT_ERRORS: Record<string, [number, ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are larger than this server accepts'],
};

/**
 * Node answers a request it cannot parse (headers over --max-http-header-size
 * among them) with a bare status line; this answers in the API's one error
 * shape instead, and then closes the connection, since the rest of the stream
 * cannot be read as requests.
 */
function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'bad_request', 'The request could not be read'];
    const body = JSON.stringify(new ApiError(status, code, message).toBody());
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
