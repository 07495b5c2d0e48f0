import winston from 'winston';
import type { Config } from './config.js';

export type Logger = winston.Logger;

/** JSON lines on stdout; `silent` is for tests that capture nothing. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>): Logger {
  return winston.createLogger({
    level: config.LOG_LEVEL === 'silent' ? 'error' : config.LOG_LEVEL,
    silent: config.LOG_LEVEL === 'silent',
    defaultMeta: { service: 'kaggi-backend' },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
