import winston from 'winston';
import type { Config } from './config.js';
import { maskDeep, maskText } from './domain/privacy.js';

export type Logger = winston.Logger;

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

/** JSON lines on stdout; `silent` is for tests that capture nothing. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>, transport?: winston.transport): Logger {
  return winston.createLogger({
    level: config.LOG_LEVEL === 'silent' ? 'error' : config.LOG_LEVEL,
    silent: config.LOG_LEVEL === 'silent',
    defaultMeta: { service: 'kaggi-backend' },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      maskPersonalData(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [transport ?? new winston.transports.Console()],
  });
}
