import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the fake received it. */
export type RecordedRequest = {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON or form body; the raw text for anything else; null when empty. */
  body: unknown;
};

/** What the fake answers: a JSON body, a raw body, or 'hang' (never answer until closed). */
export type FakeReply = { status: number; json?: unknown; raw?: string; headers?: Record<string, string> } | 'hang';

export type Fake<Mode extends string> = {
  url: string;
  requests: RecordedRequest[];
  behave(mode: Mode): void;
  close(): Promise<void>;
};

export type FakeHandler<Mode extends string> = (req: RecordedRequest, mode: Mode) => FakeReply;

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return null;
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  return raw;
}

/** A real node:http server on 127.0.0.1, random port, answering through `handler`. */
export async function startFake<Mode extends string>(initial: Mode, handler: FakeHandler<Mode>): Promise<Fake<Mode>> {
  let mode = initial;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']),
      };
      requests.push(recorded);
      const reply = handler(recorded, mode);
      if (reply === 'hang') return;
      const headers: Record<string, string> = { ...reply.headers };
      let text = '';
      if (reply.raw !== undefined) {
        text = reply.raw;
        headers['content-type'] ??= 'application/json';
      } else if (reply.json !== undefined) {
        text = JSON.stringify(reply.json);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
      res.writeHead(reply.status, headers);
      res.end(reply.status === 204 ? undefined : text);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behave(next) {
      mode = next;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
    },
  };
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): FakeReply => ({
  status,
  json: body,
  headers,
});

export const BAD_JSON: FakeReply = { status: 200, raw: '{"this is": not json' };
