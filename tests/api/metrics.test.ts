import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar } from '../helpers/fixtures.js';

/** Issue 19: GET /metrics, Prometheus text, only for the holder of METRICS_TOKEN. */

const TOKEN = 'metrics-test-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** The value of one sample line, e.g. `kaggi_email_outbox_pending 3`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => app?.close());

  it('refuses a request without the token, or with another, in the one error shape', async () => {
    const none = await app.request('GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, error: 'unauthorized' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const wrong = await app.request('GET', '/metrics', { headers: { Authorization: 'Bearer not-the-metrics-token-at-all' } });
    expect(wrong.status).toBe(401);
  });

  it('labels request durations by operation, never by raw path; unmatched routes share one label', async () => {
    const car = await registerCar(app);
    expect((await app.request('GET', `/api/cars/${car.id}`)).status).toBe(200);
    expect((await app.request('GET', '/api/cars/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await app.request('GET', '/no/such/path/jon@example.is')).status).toBe(404);
    const res = await app.request('GET', '/metrics', { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = res.text;
    expect(sample(text, 'kaggi_http_request_duration_seconds_count', '{operation="getCar",method="GET",status="200"}')).toBe(1);
    expect(sample(text, 'kaggi_http_request_duration_seconds_count', '{operation="getCar",method="GET",status="404"}')).toBe(1);
    expect(sample(text, 'kaggi_http_request_duration_seconds_count', '{operation="registerCar",method="POST",status="201"}')).toBe(1);
    expect(sample(text, 'kaggi_http_request_duration_seconds_count', '{operation="unmatched",method="GET",status="404"}')).toBe(1);
    expect(text).not.toContain(car.id);
    expect(text).not.toContain('example.is');
    // this scrape itself is in flight
    expect(sample(text, 'kaggi_http_requests_in_flight')).toBe(1);
    expect(sample(text, 'kaggi_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'kaggi_db_pool_waiting_clients')).toBe(0);
    expect(sample(text, 'kaggi_live_streams_open')).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('reads the outbox, overdue auctions and the job queue from the database when scraped', async () => {
    const car = await registerCar(app);
    await app.sql.query(`UPDATE "Bílar" SET status = 'active', auction_ends_at = now() - interval '5 minutes' WHERE id = $1`, [car.id]);
    const mail = `INSERT INTO email_outbox (kind, dedupe_key, car_id, to_email, status, attempts, created_at) VALUES ('outbid', gen_random_uuid()::text, $1, 'a@b.is', $2, $3, now() - $4::interval)`;
    await app.sql.query(mail, [car.id, 'pending', 0, '10 minutes']);
    await app.sql.query(mail, [car.id, 'pending', 2, '1 minute']);
    await app.sql.query(mail, [car.id, 'failed', 50, '1 day']);
    await app.sql.query(mail, [car.id, 'sent', 1, '1 day']);
    await app.sql.query(`INSERT INTO pgboss.job (name, data) VALUES ('email-outbox', '{}'), ('email-outbox', '{}')`);
    // a second earlier so the scrape does not reuse an older snapshot
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const text = (await app.request('GET', '/metrics', { headers: auth })).text;
    expect(sample(text, 'kaggi_email_outbox_pending')).toBe(2);
    expect(sample(text, 'kaggi_email_outbox_retrying')).toBe(1);
    expect(sample(text, 'kaggi_email_outbox_failed')).toBe(1);
    const oldest = sample(text, 'kaggi_email_outbox_oldest_pending_seconds')!;
    expect(oldest).toBeGreaterThanOrEqual(600);
    expect(oldest).toBeLessThan(700);
    expect(sample(text, 'kaggi_auctions_overdue')).toBe(1);
    expect(sample(text, 'kaggi_job_queue_depth', '{queue="email-outbox"}')).toBe(2);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  it('does not exist', async () => {
    const app = await startTestApp();
    try {
      const res = await app.request('GET', '/metrics', { headers: auth });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ success: false, error: 'route_not_found' });
    } finally {
      await app.close();
    }
  });
});
