import { z } from 'zod';

/**
 * Every environment variable the service reads, parsed once at start-up.
 * A bad value stops the process with a message naming the variable, so a
 * typo in production fails the deploy instead of misbehaving later.
 */
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes', 'on'].includes(v)));

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (fallback: string) => z.string().url().default(fallback);
const optionalUrl = z.string().url().optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(8004, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['silent', 'error', 'warn', 'info', 'http', 'verbose', 'debug']).default('info'),
  CORS_ORIGINS: z
    .string()
    .default('http://localhost:3000')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Proxy hops whose X-Forwarded-For we trust for the client IP. */
  TRUST_PROXY_HOPS: int(1, 0, 10),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb or 1mb').default('100kb'),

  DATABASE_URL: optionalText.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional()),
  DB_POOL_MAX: int(10, 1, 200),
  DB_CONNECT_TIMEOUT_MS: int(2000, 100),
  DB_STATEMENT_TIMEOUT_MS: int(10000, 100),
  EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
  EMBEDDED_PG_PORT: int(54329, 1, 65535),

  ADMIN_API_KEY: optionalText,
  AUTH_MODE: z.enum(['off', 'jwt']).default('off'),
  /** HS256 secret of the Supabase project (Settings → API → JWT secret). */
  SUPABASE_JWT_SECRET: optionalText,
  /** Or asymmetric keys (RS256/ES256) from a JWKS endpoint. */
  AUTH_JWKS_URL: optionalUrl,
  AUTH_AUDIENCE: z.string().default('authenticated'),
  AUTH_ISSUER: optionalText,
  /** `app_metadata.role` (or `role`) value that makes a token an admin's. */
  AUTH_ADMIN_ROLE: z.string().default('admin'),
  IDEMPOTENCY_TTL_HOURS: int(24, 1, 24 * 30),
  /** `postgres` shares rate-limit counters between instances. */
  RATE_LIMIT_STORE: z.enum(['memory', 'postgres']).default('memory'),

  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_GLOBAL_PER_MINUTE: int(600, 1),
  RATE_LIMIT_VEHICLE_PER_HOUR: int(60, 1),
  RATE_LIMIT_COMPANY_PER_HOUR: int(30, 1),
  RATE_LIMIT_SMS_PER_PHONE_PER_HOUR: int(5, 1),
  RATE_LIMIT_SMS_PER_IP_PER_HOUR: int(20, 1),
  RATE_LIMIT_VERIFY_PER_PHONE_PER_15MIN: int(10, 1),
  RATE_LIMIT_ESTIMATE_PER_HOUR: int(60, 1),
  RATE_LIMIT_SELLER_LOGIN_PER_PLATE_PER_HOUR: int(5, 1),
  RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR: int(20, 1),
  RATE_LIMIT_SELLER_VERIFY_PER_PLATE_PER_15MIN: int(10, 1),

  CREDITINFO_USERNAME: optionalText,
  CREDITINFO_PASSWORD: optionalText,
  CREDITINFO_CLIENT_ID: optionalText,
  CREDITINFO_CLIENT_SECRET: optionalText,
  CREDITINFO_TOKEN_URL: url('https://login.creditinfo.is/connect/token'),
  VEHICLE_API_BASE: url('https://api.creditinfo.is/vehicleregistrycore'),
  CREDITINFO_TIMEOUT_MS: int(8000, 1),

  BREVO_API_KEY: optionalText,
  BREVO_API_BASE: url('https://api.brevo.com/v3'),
  BREVO_SENDER_EMAIL: optionalText.pipe(z.string().email().optional()),
  BREVO_SENDER_NAME: z.string().default('Kaggi'),
  BREVO_WELCOME_TEMPLATE_ID: z.coerce.number().int().positive().optional(),
  BREVO_LIST_ID: int(3, 1),
  BREVO_TIMEOUT_MS: int(8000, 1),
  /** Template of the outbid e-mail; unset → a plain subject and HTML body. */
  BREVO_OUTBID_TEMPLATE_ID: z.coerce.number().int().positive().optional(),
  /** Template of the seller's sign-in code (the code in `params.code`); unset → a plain subject and HTML. */
  BREVO_SELLER_CODE_TEMPLATE_ID: z.coerce.number().int().positive().optional(),

  /** Signs sellers' session tokens (HS256). Unset: a random per-process secret outside production; seller endpoints 503 in production. */
  SELLER_TOKEN_SECRET: optionalText.pipe(z.string().min(32, 'at least 32 characters').optional()),
  SELLER_SESSION_HOURS: int(12, 1, 24 * 30),

  /** Auctions: how long a car is open for bids once it becomes active. */
  AUCTION_DURATION_HOURS: int(48, 1, 24 * 90),
  /** The smallest step between bids (and the smallest first bid), whole ISK. */
  BID_INCREMENT_ISK: int(12000, 1, 10_000_000),
  /** A bid accepted within this many minutes of the end moves the end to now + this (0 = off). */
  AUCTION_SOFT_CLOSE_MINUTES: int(2, 0, 24 * 60),
  /** Runs the closing job and the e-mail outbox worker (pg-boss) in this process. */
  AUCTION_WORKER_ENABLED: bool(true),
  /** How often ended auctions are looked for (an auction due sooner gets its own job). */
  AUCTION_CLOSE_INTERVAL_SECONDS: int(15, 1, 3600),
  /** How long a seller has to accept or decline once the auction has closed; then the car expires. */
  SELLER_DECISION_HOURS: int(48, 1, 24 * 90),
  /** The e-mail outbox: how often it is read, how many rows a run sends, and the retries. */
  OUTBOX_POLL_INTERVAL_SECONDS: int(5, 1, 3600),
  OUTBOX_BATCH_SIZE: int(20, 1, 500),
  OUTBOX_MAX_ATTEMPTS: int(50, 1, 1000),
  OUTBOX_RETRY_BASE_SECONDS: int(30, 1, 86_400),
  OUTBOX_RETRY_MAX_SECONDS: int(3600, 1, 7 * 86_400),

  /** Live auctions (Server-Sent Events): a comment line this often keeps proxies from closing an idle stream. */
  SSE_HEARTBEAT_SECONDS: int(15, 1, 3600),
  /** The `retry:` hint: how long a browser waits before reconnecting a dropped stream. */
  SSE_RETRY_MS: int(3000, 100, 600_000),
  /** Open streams per instance (503 `too_many_streams` beyond) and per client IP (429). */
  SSE_MAX_CONNECTIONS: int(5000, 1),
  SSE_MAX_CONNECTIONS_PER_IP: int(20, 1),
  /** Events a reconnecting client may catch up with `Last-Event-ID`; further behind → a fresh snapshot. */
  SSE_REPLAY_LIMIT: int(1000, 1, 100_000),
  /** A client that has this much unread (or has not read for SSE_SLOW_CLIENT_SECONDS) is dropped. */
  SSE_SLOW_CLIENT_BYTES: int(1_048_576, 1024),
  SSE_SLOW_CLIENT_SECONDS: int(30, 1, 3600),

  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_VERIFY_SERVICE_SID: optionalText,
  TWILIO_PHONE_NUMBER: optionalText,
  TWILIO_API_BASE: optionalUrl,
  TWILIO_TIMEOUT_MS: int(8000, 1),

  RSK_API_BASE: url('https://api.skattur.cloud/legalentities/v2'),
  RSK_API_KEY: optionalText,
  RSK_TIMEOUT_MS: int(8000, 1),

  METRICS_TOKEN: optionalText
    .pipe(z.string().min(16, 'at least 16 characters').optional())
    .describe('Bearer token that GET /metrics (Prometheus text) requires; unset, /metrics answers 404.'),

  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl.describe(
    'OTLP/HTTP base URL (e.g. http://collector:4318) traces are sent to, at /v1/traces; unset, tracing is off and its SDK is never loaded.',
  ),
  OTEL_SERVICE_NAME: z.string().default('kaggi-backend').describe('service.name of the spans this instance sends.'),
  OTEL_TRACES_SAMPLE_RATIO: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe('Share of new traces recorded (0–1); a request that arrives with a sampled traceparent follows its caller.'),

  RETENTION_SWEEP_INTERVAL_MINUTES: int(60, 1, 24 * 60).describe('How often the retention job purges expired rows (once per interval across all instances).'),
  RETENTION_BATCH_SIZE: int(1000, 1, 100_000).describe('Rows one DELETE of the retention job removes; each batch is its own short statement.'),
  RETENTION_RATE_LIMIT_HITS_HOURS: int(1, 0, 24 * 365).describe('Hours a rate-limit counter (rate_limit_hits) is kept after its window has reset.'),
  RETENTION_IDEMPOTENCY_KEYS_HOURS: int(48, 1, 24 * 365).describe(
    'Hours an Idempotency-Key (idempotency_keys) is kept after it was first used; never less than IDEMPOTENCY_TTL_HOURS.',
  ),
  RETENTION_ONE_TIME_CODES_HOURS: int(24, 0, 24 * 365).describe(
    'Hours a used or expired one-time code (phone_verifications, seller_login_codes) is kept after its use or expiry.',
  ),
  RETENTION_OUTBOX_SENT_DAYS: int(30, 1, 3650).describe('Days a sent (or sandbox) e-mail stays in email_outbox after sending; pending and failed rows stay.'),
});

const checked = schema.superRefine((env, ctx) => {
  if (env.AUTH_MODE === 'jwt' && !env.SUPABASE_JWT_SECRET && !env.AUTH_JWKS_URL) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: 'AUTH_MODE=jwt needs SUPABASE_JWT_SECRET or AUTH_JWKS_URL' });
  }
});

export type Config = Readonly<z.output<typeof schema>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Treat empty strings as unset so `FOO=` in a .env file means "default".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checked.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  return Object.freeze(parsed.data);
}
