import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that reads the frontend side of the wire
 * protocol and counts round trips: every Sync ('S', end of an extended-protocol
 * exchange: Parse/Bind/Execute/Sync go out in one write and wait for one
 * ReadyForQuery) and every simple Query ('Q'). It also records the text of
 * each statement (from Parse or Query), and the parameters of the Bind that
 * follows a Parse (text format, as pg sends them), so the bench can say which
 * statements one request costs and replay them under EXPLAIN. No extension,
 * no server setting: it sees what the driver sends.
 */
export type Statement = { text: string; values?: (string | null)[] };

/** A Bind message's parameter values (null: SQL NULL or a binary-format value, which the bench never sends). */
function bindValues(body: Buffer): (string | null)[] {
  let at = body.indexOf(0) + 1; // portal
  at = body.indexOf(0, at) + 1; // statement
  const formats: number[] = [];
  const nFormats = body.readInt16BE(at);
  at += 2;
  for (let i = 0; i < nFormats; i++, at += 2) formats.push(body.readInt16BE(at));
  const n = body.readInt16BE(at);
  at += 2;
  const values: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const length = body.readInt32BE(at);
    at += 4;
    const binary = (formats.length === 1 ? formats[0] : (formats[i] ?? 0)) === 1;
    values.push(length < 0 || binary ? null : body.subarray(at, at + length).toString('utf8'));
    if (length > 0) at += length;
  }
  return values;
}

export type CountingProxy = {
  url: (databaseUrl: string) => string;
  roundTrips: () => number;
  /** statements seen since the last take(), oldest first */
  take: () => Statement[];
  close: () => Promise<void>;
};

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function startCountingProxy(upstreamHost: string, upstreamPort: number): Promise<CountingProxy> {
  let roundTrips = 0;
  let statements: Statement[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, upstreamHost);
    sockets.add(client);
    sockets.add(upstream);
    let buffer: Buffer = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (!started) {
          // untyped start-up packets: length, code
          if (buffer.length < 8) break;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) break;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) started = true;
          continue;
        }
        if (buffer.length < 5) break;
        const type = String.fromCharCode(buffer[0]);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) break;
        const body = buffer.subarray(5, 1 + length);
        if (type === 'Q') {
          roundTrips += 1;
          statements.push({ text: body.subarray(0, body.indexOf(0)).toString('utf8') });
        } else if (type === 'P') {
          const nameEnd = body.indexOf(0);
          const textEnd = body.indexOf(0, nameEnd + 1);
          statements.push({ text: body.subarray(nameEnd + 1, textEnd).toString('utf8') });
        } else if (type === 'B') {
          const last = statements.at(-1);
          if (last && !last.values) last.values = bindValues(body);
        } else if (type === 'S') {
          roundTrips += 1;
        }
        buffer = buffer.subarray(1 + length);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: (databaseUrl) => {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      // the proxy speaks plain TCP only
      u.searchParams.set('sslmode', 'disable');
      return u.toString();
    },
    roundTrips: () => roundTrips,
    take: () => {
      const taken = statements;
      statements = [];
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
