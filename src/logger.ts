import winston from 'winston';
import type { Config } from './config.js';
import { maskDeep, maskText } from './domain/privacy.js';

export type Logger = winston.Logger;

const SERVICE = 'kaggi-backend';

// Fields that are ours and never personal; everything else is masked.
const SAFE_FIELDS = new Set(['level', 'timestamp', 'service', 'request_id', 'operation', 'duration_ms', 'status', 'method']);

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

/** The fields of the access line; `path` arrives masked. */
export type AccessRecord = { request_id: string; method: string; path: string; operation?: string; status: number; duration_ms: number };
export type AccessLog = (level: 'info' | 'error', record: AccessRecord) => void;

/**
 * Loggers that write JSON lines straight to stdout get a direct access-line
 * writer: the line is one JSON.stringify of fields that are all ours or
 * already masked, so winston's stream and format chain (about 5× the CPU per
 * line) buys nothing. Other loggers (a test's transport, the readable
 * terminal format) take the access line through winston like any entry.
 */
const directAccessLogs = new WeakMap<Logger, AccessLog>();

export function accessLogOf(logger: Logger): AccessLog {
  return directAccessLogs.get(logger) ?? ((level, record) => logger.log(level, 'request', record));
}

/** JSON lines on stdout (readable lines at a development terminal); `silent` is for tests that capture nothing. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>, transport?: winston.transport): Logger {
  const jsonToStdout = !transport && !useReadableLogs(config);
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
    transports: [transport ?? new winston.transports.Console()],
  });
  if (jsonToStdout && config.LOG_LEVEL !== 'silent') {
    directAccessLogs.set(logger, (level, record) => {
      process.stdout.write(`${JSON.stringify({ level, message: 'request', ...record, service: SERVICE, timestamp: new Date().toISOString() })}\n`);
    });
  }
  return logger;
}

