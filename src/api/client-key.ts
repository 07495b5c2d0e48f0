import type { Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';

/**
 * Who the client is for every per-client budget (the rate limits, the live streams):
 * its IP as Express resolved it (TRUST_PROXY_HOPS), an IPv6 address grouped by its
 * /56, as one host or home usually gets a whole prefix and could rotate past a
 * per-address limit.
 */
export const clientKey = (req: Request): string => ipKeyGenerator(req.ip ?? '');
