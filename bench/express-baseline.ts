/**
 * What a team would write without the contract-first machinery: Express 5 with
 * helmet, cors, express-rate-limit (memory store), express.json and a winston
 * child logger per request (request id, one access line at info), hand-written
 * checks of the inputs, `pg` directly. The same SQL as the project
 * (bench/lib/queries.ts) and the same response bodies; the bid applies the same
 * auction rules (src/domain/auction.ts) with the same statements. The bench
 * starts it as a child process next to the real server and the bare baseline.
 *
 *   DATABASE_URL=postgres://… PORT=8200 DB_POOL_MAX=10 node --import tsx bench/express-baseline.ts
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import { rateLimit } from 'express-rate-limit';
import pg from 'pg';
import winston from 'winston';
import { checkBid, minNextBid, proxyCeiling, reserveMet, resolveBid, softCloseEnd } from '../src/domain/auction.js';
import { bidSql, sql } from './lib/queries.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(1);
}
const port = Number(process.env.PORT ?? 8200);
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.DB_POOL_MAX ?? 10) });
const logger = winston.createLogger({
  level: process.env.LOG_LEVEL ?? 'info',
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [new winston.transports.Console()],
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
const invalid = (path: string, message: string) =>
  new HttpError(422, 'validation_failed', 'The request is not valid', { errors: [{ path, message: `${path} ${message}` }] });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const uuidParam = (req: Request, name: string) => {
  const v = req.params[name] as string;
  if (!UUID.test(v)) throw invalid(`path.${name}`, 'must be a UUID');
  return v;
};
const emailParam = (req: Request, name: string) => {
  const v = (req.params[name] as string).trim().toLowerCase();
  if (v.length > 254 || !EMAIL.test(v)) throw invalid(`path.${name}`, 'must be an e-mail address');
  return v;
};
const wholeIsk = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 2_000_000_000;

type Handler = (req: Request, res: Response) => Promise<unknown>;
/** Express 5 passes a rejected promise to the error handler; the wrapper only sends the body. */
const json =
  (fn: Handler, status = 200) =>
  async (req: Request, res: Response) => {
    res.status(status).json(await fn(req, res));
  };

const app = express();
app.disable('x-powered-by');
app.set('trust proxy', 1);
app.use((req: Request, res: Response, next: NextFunction) => {
  const incoming = req.get('x-request-id');
  const requestId = incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const log = logger.child({ request_id: requestId });
  res.locals.log = log;
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    log.info('request', {
      method: req.method,
      path: req.path,
      status: res.statusCode,
      duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
    });
  });
  next();
});
app.use(helmet());
app.use(cors({ origin: ['http://localhost:3000'], exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy'] }));
app.use(
  '/api',
  rateLimit({
    windowMs: 60_000,
    limit: Number(process.env.RATE_LIMIT_GLOBAL_PER_MINUTE ?? 600),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
  }),
);
app.use(express.json({ limit: '100kb' }));

app.get('/health', (_req, res) => {
  res.json({ status: 'OK' });
});

app.get(
  '/api/cars',
  json(async (req) => {
    const raw = req.query.limit;
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalid('query.limit', 'must be an integer from 1 to 500');
    const { rows } = await pool.query(sql.listCars, [limit + 1]);
    const cars = rows.slice(0, limit);
    const next = rows.length > limit ? Buffer.from(cars[cars.length - 1].id).toString('base64url') : null;
    return { success: true, cars, count: cars.length, next_cursor: next, timestamp: new Date().toISOString() };
  }),
);

app.get(
  '/api/cars/:car_id',
  json(async (req) => {
    const { rows } = await pool.query(sql.getCar, [uuidParam(req, 'car_id')]);
    if (!rows[0]) throw notFound('Car');
    return { success: true, car: rows[0] };
  }),
);

app.get(
  '/api/bids/car/:car_id',
  json(async (req) => {
    const id = uuidParam(req, 'car_id');
    const { rows } = await pool.query(sql.listCarBids, [id]);
    if (rows.length === 0 && !(await pool.query(sql.carExists, [id])).rows[0].exists) throw notFound('Car');
    return { success: true, bids: rows, count: rows.length };
  }),
);

app.get(
  '/api/bids/dealer/:dealer_email',
  json(async (req) => {
    const { rows } = await pool.query(sql.listDealerBids, [emailParam(req, 'dealer_email')]);
    return { success: true, bids: rows, count: rows.length };
  }),
);

app.get(
  '/api/favorites/:dealer_email',
  json(async (req) => {
    const { rows } = await pool.query(sql.listFavorites, [emailParam(req, 'dealer_email')]);
    return { success: true, favorites: rows, count: rows.length };
  }),
);

app.get(
  '/api/dashboard/stats/:dealer_email',
  json(async (req) => {
    const e = emailParam(req, 'dealer_email');
    const { rows } = await pool.query(sql.dashboardStats, [e, e, e]);
    return { success: true, stats: rows[0] };
  }),
);

type BidBody = { car_id?: unknown; dealer_name?: unknown; dealer_email?: unknown; bid_amount?: unknown; max_amount?: unknown };

app.post(
  '/api/bids/create',
  json(async (req, res) => {
    const body = (req.body ?? {}) as BidBody;
    if (typeof body.car_id !== 'string' || !UUID.test(body.car_id)) throw invalid('body.car_id', 'must be a UUID');
    if (typeof body.dealer_name !== 'string' || body.dealer_name.length < 1 || body.dealer_name.length > 200) {
      throw invalid('body.dealer_name', 'must be 1 to 200 characters');
    }
    if (typeof body.dealer_email !== 'string' || body.dealer_email.length > 254 || !EMAIL.test(body.dealer_email.trim())) {
      throw invalid('body.dealer_email', 'must be an e-mail address');
    }
    if (!wholeIsk(body.bid_amount)) throw invalid('body.bid_amount', 'must be a whole number of ISK');
    const maxAmount = body.max_amount ?? null;
    if (maxAmount !== null && (!wholeIsk(maxAmount) || (maxAmount as number) < (body.bid_amount as number))) {
      throw invalid('body.max_amount', 'must be at least body.bid_amount');
    }
    const carId = body.car_id;
    const amount = body.bid_amount as number;
    const dealerEmail = body.dealer_email.trim().toLowerCase();
    const dealerName = body.dealer_name.trim();

    const client = await pool.connect();
    let outcome;
    try {
      await client.query('BEGIN');
      if ((await client.query(bidSql.lock, [carId])).rowCount === 0) throw notFound('Car');
      const car = (await client.query(bidSql.car, [carId])).rows[0];
      if (car.status === 'closed' || (car.status === 'active' && car.ended)) {
        throw new HttpError(409, 'auction_closed', 'The auction on this car has ended');
      }
      if (car.status !== 'active')
        throw new HttpError(409, 'car_not_active', `Bids are only taken on active cars; this car is ${car.status}`);
      const leader = (await client.query(bidSql.leader, [carId])).rows[0];
      const standing = leader
        ? { leader: leader.dealer_email, price: leader.price, leaderMax: proxyCeiling(leader.price, leader.leader_max, !leader.suspended) }
        : null;
      const check = checkBid(standing, amount, car.bid_increment);
      if (!check.ok) {
        throw new HttpError(409, 'bid_too_low', `The bid must be at least ${check.minNextBid} kr.`, { min_next_bid: check.minNextBid });
      }
      const resolution = resolveBid(
        standing,
        { bidder: dealerEmail, amount, max: maxAmount as number | null },
        { increment: car.bid_increment, reservePrice: car.reserve_price },
      );
      let own;
      const inserted = [];
      for (const placed of resolution.bids) {
        const mine = placed.bidder === dealerEmail;
        const { rows } = await client.query(bidSql.insert, [
          carId,
          mine ? dealerName : leader.dealer_name,
          placed.bidder,
          placed.amount,
          placed.max,
          placed.proxy,
        ]);
        if (mine) own = rows[0];
        inserted.push(rows[0]);
      }
      const extended = softCloseEnd(car.auction_ends_at, car.now, 2);
      const auctionEndsAt = extended ? extended.toISOString() : car.auction_ends_at;
      if (extended) await client.query(bidSql.softClose, [auctionEndsAt, carId]);
      const nextMin = minNextBid(resolution.price, car.bid_increment);
      // the live-event row of each bid, as the project writes it (the trigger announces it)
      let highest = leader?.price ?? 0;
      for (const [i, row] of inserted.entries()) {
        highest = Math.max(highest, row.bid_amount);
        const data = {
          amount: row.bid_amount,
          created_at: row.created_at,
          proxy: row.proxy,
          status: 'active',
          bid_count: (leader?.bid_count ?? 0) + i + 1,
          highest_bid: highest,
          min_next_bid: minNextBid(highest, car.bid_increment),
          auction_ends_at: auctionEndsAt,
          reserve_met: car.reserve_price === null || highest >= car.reserve_price,
        };
        await client.query(bidSql.event, [carId, JSON.stringify(data)]);
      }
      if (resolution.outbid && leader) {
        const params = {
          car_id: carId,
          dealer_name: leader.dealer_name,
          car_make: car.car_make,
          car_model: car.car_model,
          car_plate: car.car_plate,
          year: car.year,
          highest_bid: resolution.price,
          min_next_bid: nextMin,
          auction_ends_at: auctionEndsAt,
        };
        await client.query(bidSql.outbox, [
          'outbid',
          `outbid:${own.id}`,
          carId,
          leader.dealer_email,
          leader.dealer_name,
          JSON.stringify(params),
        ]);
      }
      await client.query('COMMIT');
      outcome = {
        bid: own,
        leading: resolution.leader === dealerEmail,
        highest_bid: resolution.price,
        min_next_bid: nextMin,
        reserve_met: reserveMet(resolution.price, car.reserve_price),
        auction_ends_at: auctionEndsAt,
        max_amount: resolution.leader === dealerEmail ? resolution.leaderMax : maxAmount,
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    (res.locals.log as winston.Logger).info('bid accepted', { bid_id: outcome.bid.id, car_id: carId, amount: outcome.bid.bid_amount });
    res.status(201);
    return {
      success: true,
      message: outcome.leading ? 'Bid placed successfully' : 'Bid placed, but another dealer’s maximum bid is higher: you have been outbid',
      bid_id: outcome.bid.id,
      ...outcome,
    };
  }, 201),
);

app.use((req: Request, _res: Response, next: NextFunction) =>
  next(new HttpError(404, 'route_not_found', `No route for ${req.method} ${req.path}`)),
);
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  const e =
    error instanceof HttpError
      ? error
      : (error as { type?: string }).type === 'entity.parse.failed'
        ? new HttpError(400, 'malformed_json', 'The request body is not valid JSON')
        : new HttpError(500, 'internal_error', 'Something went wrong on our side; it has been logged');
  if (e.status >= 500) (res.locals.log as winston.Logger | undefined)?.error('request failed', { error: String(error) });
  res.status(e.status).json({ success: false, error: e.code, message: e.message, detail: e.message, ...e.extra });
});

const server = app.listen(port, process.env.HOST ?? '127.0.0.1');
server.keepAliveTimeout = 65_000;

const stop = () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
