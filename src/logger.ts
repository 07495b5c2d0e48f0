import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Config } from './config.js';
import { maskDeep, maskText } from './domain/privacy.js';

export type Logger = winston.Logger;

const SERVICE = 'kaggi-backend';

// Fields that are ours and never personal; everything else is masked.
const SAFE_FIELDS = new Set(['level', 'timestamp', 'service', 'request_id', 'trace_id', 'operation', 'duration_ms', 'status', 'method']);

/**
 * Phones, e-mails and kennitölur never reach a log line, whoever logged them:
 * the masking is a format on the logger, not a rule each caller must remember.
 */
const maskPersonalData = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SAFE_FIELDS.has(key)) continue;
    const value = info[key];
    info[key] = typeof value === 'string' ? maskText(value) : maskDeep(value);
  }
  return info;
});

/**
 * For a developer at a terminal: one readable line per entry, the access line
 * as `12:03:04 GET /api/cars 200 3.1 ms listCars`. JSON lines everywhere else.
 */
export const readableLine = winston.format.printf((info) => {
  const { level, message, timestamp, service: _service, ...rest } = info as Record<string, unknown>;
  const time = String(timestamp).slice(11, 23);
  if (message === 'request') {
    const { method, path, status, duration_ms, operation } = rest;
    return `${time} ${level === 'info' ? '' : `${String(level).toUpperCase()} `}${method} ${path} ${status} ${duration_ms} ms${operation ? ` ${operation}` : ''}`;
  }
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${level} ${message}${fields ? ` ${fields}` : ''}`;
});

export function useReadableLogs(config: Pick<Config, 'NODE_ENV'>): boolean {
  return Boolean(process.stdout.isTTY) && config.NODE_ENV !== 'production';
}

/** The fields of the access line; `path` arrives masked, `trace_id` only when tracing is on. */
export type AccessRecord = {
  request_id: string;
  method: string;
  path: string;
  operation?: string;
  status: number;
  duration_ms: number;
  trace_id?: string;
};
export type AccessLog = (level: 'info' | 'error', record: AccessRecord) => void;

/**
 * Loggers that write JSON lines to stdout get a direct access-line writer:
 * the line is built from fields that are all ours or already masked (only the
 * path needs JSON escaping; request ids, methods, operation ids and trace ids
 * are plain tokens), so winston's stream and format chain (about 5× the CPU
 * per line) buys nothing. Other loggers (a test's transport, the readable
 * terminal format) take the access line through winston like any entry.
 */
const directAccessLogs = new WeakMap<Logger, AccessLog>();

export function accessLogOf(logger: Logger): AccessLog {
  return directAccessLogs.get(logger) ?? ((level, record) => logger.log(level, 'request', record));
}

export function accessLine(level: string, r: AccessRecord, timestamp: string): string {
  const operation = r.operation === undefined ? '' : `,"operation":"${r.operation}"`;
  const trace = r.trace_id === undefined ? '' : `,"trace_id":"${r.trace_id}"`;
  return (
    `{"level":"${level}","message":"request","request_id":"${r.request_id}","method":"${r.method}","path":${JSON.stringify(r.path)}` +
    `${operation},"status":${r.status},"duration_ms":${r.duration_ms}${trace},"service":"${SERVICE}","timestamp":"${timestamp}"}\n`
  );
}

/**
 * Where the JSON lines go: a buffer written to stdout once it holds 16 kB, or
 * every 200 ms at the latest, so a busy server makes one write system call per
 * sixty-odd lines, not one per line (Node writes to a pipe synchronously, one
 * call per line). The rest is written when the process exits for any reason:
 * a graceful stop's process.exit, a fatal error's, an uncaught exception.
 *
 * Measured against sonic-boom (pino's destination), which hands each chunk
 * to libuv's thread pool: with lines in bursts as requests finish, that cost
 * more CPU per line than the synchronous write it would replace; this buffer
 * costs a fraction of either (bench/lib/observability-cost.ts).
 */
export type LineDestination = { write(line: string): void; flush(): void };

const CHUNK_BYTES = 16_384;
const FLUSH_MS = 200;
/** How long a final flush keeps retrying a full pipe (EAGAIN) before it gives the lines up. */
const EXIT_RETRY_MS = 2000;

export function createLineDestination(fd = 1): LineDestination {
  let buffer = '';
  // What a full pipe (EAGAIN) did not take yet; written before anything newer.
  let unwritten: Buffer | undefined;

  const flushOut = (final: boolean) => {
    if (buffer.length === 0 && !unwritten) return;
    let bytes = unwritten && buffer.length > 0 ? Buffer.concat([unwritten, Buffer.from(buffer)]) : (unwritten ?? Buffer.from(buffer));
    buffer = '';
    unwritten = undefined;
    const giveUpAt = Date.now() + EXIT_RETRY_MS;
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(fd, bytes));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return; // the reader is gone: nothing to be done for these lines
        if (!final) {
          unwritten = bytes;
          return;
        }
        if (Date.now() > giveUpAt) return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  };

  setInterval(() => flushOut(false), FLUSH_MS).unref();
  process.once('exit', () => flushOut(true));
  return {
    write(line) {
      buffer += line;
      if (buffer.length >= CHUNK_BYTES) flushOut(false);
    },
    flush: () => flushOut(true),
  };
}

/** winston's entries (everything but the access line) into the same buffer, so the order of lines is kept. */
function lineStream(destination: LineDestination): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      destination.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      callback();
    },
  });
}

/** JSON lines on stdout (readable lines at a development terminal); `silent` is for tests that capture nothing. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>, transport?: winston.transport): Logger {
  const jsonToStdout = !transport && !useReadableLogs(config);
  const destination = jsonToStdout && config.LOG_LEVEL !== 'silent' ? createLineDestination() : undefined;
  const logger = winston.createLogger({
    level: config.LOG_LEVEL === 'silent' ? 'error' : config.LOG_LEVEL,
    silent: config.LOG_LEVEL === 'silent',
    defaultMeta: { service: SERVICE },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      maskPersonalData(),
      winston.format.timestamp(),
      jsonToStdout || transport ? winston.format.json() : readableLine,
    ),
    transports: [
      transport ?? (destination ? new winston.transports.Stream({ stream: lineStream(destination) }) : new winston.transports.Console()),
    ],
  });
  if (destination) {
    directAccessLogs.set(logger, (level, record) => destination.write(accessLine(level, record, new Date().toISOString())));
  }
  return logger;
}
