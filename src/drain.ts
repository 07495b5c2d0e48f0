import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Keep-alive connections during a stop. Node's `server.close()` stops accepting
 * connections and closes the idle ones, but a connection busy with a request
 * stays open after its answer (still `Connection: keep-alive`), and its client
 * may send the next request on it, and the next: under steady traffic the
 * server never finishes closing, until the stop's deadline cuts every
 * connection mid-request and the pool ends under handlers still running.
 *
 * Once `begin()` is called, every answer whose headers are not yet written says
 * `Connection: close`, so each connection ends after the request it is serving.
 */
export type Drain = { begin(): void };

export function drainOnStop(server: Server): Drain {
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  // Prepended: the header is set before the app starts on the request.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) {
      res.setHeader('Connection', 'close');
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  return {
    begin() {
      stopping = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      inFlight.clear();
    },
  };
}
