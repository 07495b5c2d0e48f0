import { z } from 'zod';

/**
 * The row type of a statement that returns none (UPDATE, DELETE or INSERT without RETURNING,
 * SET): every query in src/ is `sql.type`d, these with this one empty schema.
 */
export const noRows = z.object({});
