import { Writable } from 'node:stream';
import winston from 'winston';
import { loadConfig, type Config } from '../../src/config.js';
import { ApiError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/logger.js';

/** Short timeouts so the 'timeout' fakes fail fast. */
export const TEST_TIMEOUT_MS = 1000;
/** Scheduling slack allowed on top of a timeout on a busy CI machine. */
export const SLACK_MS = 2000;

export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    CREDITINFO_TIMEOUT_MS: String(TEST_TIMEOUT_MS),
    BREVO_TIMEOUT_MS: String(TEST_TIMEOUT_MS),
    TWILIO_TIMEOUT_MS: String(TEST_TIMEOUT_MS),
    RSK_TIMEOUT_MS: String(TEST_TIMEOUT_MS),
    // production refuses to start without a chosen AUTH_MODE
    AUTH_MODE: 'off',
    ...env,
  });
}

export const silentLogger = (): Logger => createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' });

/** A logger that keeps every line, to check what is (and is not) logged. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

/** Awaits a rejection and returns it as an ApiError (fails the test otherwise). */
export async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw new Error(`expected an ApiError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection, the promise resolved');
}

export async function elapsed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const start = performance.now();
  const [result] = await Promise.allSettled([fn()]);
  return { ms: performance.now() - start, result: result };
}
