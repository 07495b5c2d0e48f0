import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Db } from './db/pool.js';

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

/**
 * Resolves once no connection of `db` is in use or awaited (or after `ms`).
 * The server has closed by then, but a request whose connection was cut (its
 * client hung up, or the stop's deadline) still runs its SQL: ending the pool
 * under it fails it as "Client is pending destroy".
 */
export async function poolQuiet(db: Db, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    const { acquiredConnections, pendingConnections, waitingClients } = db.state();
    if (acquiredConnections + pendingConnections + waitingClients === 0) return true;
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
