import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors.js';

/** No route of this API needs a longer request target (path and query); browsers and proxies stop near here too. */
export const MAX_REQUEST_TARGET = 2048;

/**
 * 414 for a request target over MAX_REQUEST_TARGET, before anything else reads
 * it (the access log's masking, routing, percent-decoding), on every path: a
 * long target is then cheap to refuse whatever the later steps cost.
 */
export function refuseLongRequestTargets(req: Request, res: Response, next: NextFunction): void {
  if (req.url.length <= MAX_REQUEST_TARGET) {
    next();
    return;
  }
  const error = new ApiError(414, 'uri_too_long', `The request target is longer than ${MAX_REQUEST_TARGET} characters`);
  res.status(error.status).setHeader('Connection', 'close');
  res.json(error.toBody());
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are larger than this server accepts'],
};

/**
 * Node answers a request it cannot parse (headers over --max-http-header-size
 * among them) with a bare status line; this answers in the API's one error
 * shape instead, and then closes the connection, since the rest of the stream
 * cannot be read as requests.
 */
export function answerClientErrors(server: Server): void {
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
