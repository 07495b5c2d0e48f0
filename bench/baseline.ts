/**
 * The bare baseline: node:http + pg, no framework, no validation, no logging,
 * serving the same SQL (bench/lib/queries.ts) with the same response shapes as
 * the project. The bench starts it as a child process next to the real server.
 *
 *   DATABASE_URL=postgres://… PORT=8100 DB_POOL_MAX=10 node --import tsx bench/baseline.ts
 */
import http from 'node:http';
import pg from 'pg';
import { sql } from './lib/queries.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(1);
}
const port = Number(process.env.PORT ?? 8100);
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.DB_POOL_MAX ?? 10) });

type Reply = { status: number; body: unknown };

const notFound = (what: string): Reply => ({ status: 404, body: { success: false, error: 'not_found', message: `${what} not found` } });
const email = (raw: string) => decodeURIComponent(raw).trim().toLowerCase();

async function listCars(query: URLSearchParams): Promise<Reply> {
  const limit = Number(query.get('limit') ?? 100);
  const { rows } = await pool.query(sql.listCars, [limit + 1]);
  const cars = rows.slice(0, limit);
  const next = rows.length > limit ? Buffer.from(cars[cars.length - 1].id).toString('base64url') : null;
  return {
    status: 200,
    body: { success: true, cars, count: cars.length, next_cursor: next, timestamp: new Date().toISOString() },
  };
}

async function getCar(id: string): Promise<Reply> {
  const { rows } = await pool.query(sql.getCar, [id]);
  return rows[0] ? { status: 200, body: { success: true, car: rows[0] } } : notFound('Car');
}

async function listCarBids(id: string): Promise<Reply> {
  const { rows } = await pool.query(sql.listCarBids, [id]);
  if (rows.length === 0 && !(await pool.query(sql.carExists, [id])).rows[0].exists) return notFound('Car');
  return { status: 200, body: { success: true, bids: rows, count: rows.length } };
}

async function listDealerBids(dealer: string): Promise<Reply> {
  const { rows } = await pool.query(sql.listDealerBids, [email(dealer)]);
  return { status: 200, body: { success: true, bids: rows, count: rows.length } };
}

async function listFavorites(dealer: string): Promise<Reply> {
  const { rows } = await pool.query(sql.listFavorites, [email(dealer)]);
  return { status: 200, body: { success: true, favorites: rows, count: rows.length } };
}

async function dashboardStats(dealer: string): Promise<Reply> {
  const e = email(dealer);
  const { rows } = await pool.query(sql.dashboardStats, [e, e, e]);
  return { status: 200, body: { success: true, stats: rows[0] } };
}

type BidBody = { car_id: string; dealer_name: string; dealer_email: string; bid_amount: number };

async function createBid(raw: string): Promise<Reply> {
  const body = JSON.parse(raw) as BidBody;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const car = await client.query(sql.bidLockCar, [body.car_id]);
    if (!car.rows[0]) {
      await client.query('ROLLBACK');
      return notFound('Car');
    }
    const highest = (await client.query(sql.bidHighest, [body.car_id])).rows[0].highest as number | null;
    const increment = car.rows[0].bid_increment as number;
    if (car.rows[0].status !== 'active' || body.bid_amount < (highest ?? 0) + increment) {
      await client.query('ROLLBACK');
      return { status: 409, body: { success: false, error: 'bid_too_low', message: 'too low', min_next_bid: (highest ?? 0) + increment } };
    }
    const { rows } = await client.query(sql.bidInsert, [
      body.car_id,
      body.dealer_name.trim(),
      body.dealer_email.trim().toLowerCase(),
      body.bid_amount,
    ]);
    await client.query('COMMIT');
    return { status: 201, body: { success: true, message: 'Bid placed successfully', bid_id: rows[0].id, bid: rows[0] } };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function route(req: http.IncomingMessage): Promise<Reply> {
  const u = new URL(req.url ?? '/', 'http://x');
  const parts = u.pathname.split('/').filter(Boolean);
  if (req.method === 'GET') {
    if (u.pathname === '/health') return { status: 200, body: { status: 'OK' } };
    if (u.pathname === '/api/cars') return listCars(u.searchParams);
    if (parts[0] === 'api' && parts.length === 3 && parts[1] === 'cars') return getCar(parts[2]);
    if (parts[0] === 'api' && parts.length === 4 && parts[1] === 'bids' && parts[2] === 'car') return listCarBids(parts[3]);
    if (parts[0] === 'api' && parts.length === 4 && parts[1] === 'bids' && parts[2] === 'dealer') return listDealerBids(parts[3]);
    if (parts[0] === 'api' && parts.length === 3 && parts[1] === 'favorites') return listFavorites(parts[2]);
    if (parts[0] === 'api' && parts.length === 4 && parts[1] === 'dashboard' && parts[2] === 'stats') return dashboardStats(parts[3]);
  }
  if (req.method === 'POST' && u.pathname === '/api/bids/create') return createBid(await readBody(req));
  return { status: 404, body: { success: false, error: 'route_not_found' } };
}

const server = http.createServer((req, res) => {
  route(req).then(
    (reply) => {
      const payload = JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) });
      res.end(payload);
    },
    (error: unknown) => {
      console.error(error);
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"success":false,"error":"internal_error"}');
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(port, process.env.HOST ?? '127.0.0.1');

const stop = () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
