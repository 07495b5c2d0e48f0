import { migrate } from './db/migrate.js';
import { installJobQueues } from './auctions/queues.js';
import type { Logger } from './logger.js';

/**
 * The whole schema an instance needs: the SQL migrations, then the job queue's tables and
 * queues, under the migration lock. The data layer does not know the job queue; start-up does.
 */
export const migrateSchema = (url: string, logger: Logger): Promise<number> => migrate(url, logger, [installJobQueues]);
