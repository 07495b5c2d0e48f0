import { sql } from 'slonik';
import { z } from 'zod';
import { sellerTokens } from '../api/seller-auth.js';
import type { Deps } from '../api/types.js';
import type { Logger } from '../logger.js';

const sessionRow = z.object({ seller_session: z.number().int() });

/**
 * A seller token for a car that was just listed (registered, or confirmed by phone), the same
 * token `POST /api/seller/verify` issues, so its seller can add photos at once. None when
 * seller sign-in is not configured (production without SELLER_TOKEN_SECRET).
 */
export async function sellerSession(
  deps: Pick<Deps, 'config' | 'db' | 'logger'>,
  log: Logger,
  carId: string,
): Promise<{ token: string; expires_at: string } | null> {
  const tokens = sellerTokens(deps.config, deps.logger);
  if (!tokens.configured) return null;
  const session = await deps.db.maybeOneFirst(sql.type(sessionRow)`SELECT seller_session FROM "Bílar" WHERE id = ${carId}`);
  if (session === null) return null;
  const issued = await tokens.issue(carId, session);
  log.info('seller session issued with the listing', { car_id: carId });
  return issued;
}
