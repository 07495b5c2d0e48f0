import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';

/**
 * Every environment variable the service reads, parsed once at start-up.
 * A bad value stops the process with a message naming the variable, so a
 * typo in production fails the deploy instead of misbehaving later.
 *
 * Each variable's `.describe()` is its documentation: docs/configuration.md is
 * generated from this schema (`npm run docs:config`), and a test fails when the
 * two drift apart, so a new variable needs a description here and nowhere else.
 */
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes', 'on'].includes(v)));

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (fallback: string) => z.string().url().default(fallback);
const optionalUrl = z.string().url().optional();

export const configSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe('`production` turns each service without credentials into 503 `not_configured` instead of a sandbox.'),
  PORT: int(8004, 0, 65535).describe('Port the API listens on.'),
  HOST: z.string().default('0.0.0.0').describe('Address the API listens on.'),
  LOG_LEVEL: z
    .enum(['silent', 'error', 'warn', 'info', 'http', 'verbose', 'debug'])
    .default('info')
    .describe('Log level: `info` writes one access line per request, `warn` and quieter levels leave the access log out.'),
  CORS_ORIGINS: z
    .string()
    .default('http://localhost:3000')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .describe('Comma-separated origins allowed by CORS (`*` for any).'),
  /** 0 unless set: a client reaching the server directly would otherwise pick its own IP for every per-IP limit. */
  TRUST_PROXY_HOPS: int(0, 0, 10).describe(
    'Proxies in front of the server (a load balancer = 1) whose `X-Forwarded-For` is trusted for the client IP; 0 trusts none.',
  ),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb or 1mb')
    .default('100kb')
    .describe('Largest JSON body, a size such as `100kb` or `1mb`; a larger body answers 413.'),

  DATABASE_URL: optionalText
    .pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
        .optional(),
    )
    .describe('The PostgreSQL to use (`postgres://…`); unset, an embedded PostgreSQL starts with demo data.'),
  DB_POOL_MAX: int(10, 1, 200).describe('Database connections per instance.'),
  DB_CONNECT_TIMEOUT_MS: int(2000, 100).describe('Connect timeout: a dead or frozen database answers 503 within this plus 1 s.'),
  DB_STATEMENT_TIMEOUT_MS: int(10000, 100).describe('Longest a query may run on a database that still answers.'),
  EMBEDDED_PG_DIR: z
    .string()
    .default('.data/postgres')
    .describe('Data directory of the embedded PostgreSQL (used when DATABASE_URL is unset).'),
  EMBEDDED_PG_PORT: int(54329, 1, 65535).describe('Port of the embedded PostgreSQL.'),

  ADMIN_API_KEY: optionalText
    .pipe(z.string().min(32, 'at least 32 characters').optional())
    .describe('Enables the admin endpoints (`X-Admin-Key`, compared in constant time); unset, they answer 403 `admin_disabled`.'),
  ADMIN_KEY_LABEL: z
    .string()
    .min(1)
    .max(100)
    .default('admin-key')
    .describe('Who the audit log names for an action done with X-Admin-Key (an admin token is named by its subject).'),
  /** Unset means `off`, except in production, where it must be chosen (see `checked`). */
  AUTH_MODE: z
    .enum(['off', 'jwt'])
    .optional()
    .describe(
      '`jwt` requires dealer tokens on the dealer operations (and SUPABASE_JWT_SECRET or AUTH_JWKS_URL); `off` trusts the e-mail in the request. Unset means `off`, except in production, where it must be set.',
    ),
  SUPABASE_JWT_SECRET: optionalText
    .pipe(z.string().min(32, 'at least 32 characters').optional())
    .describe("With AUTH_MODE=jwt: the Supabase project's HS256 JWT secret (Settings → API → JWT secret)."),
  AUTH_JWKS_URL: optionalUrl.describe('With AUTH_MODE=jwt: a JWKS URL for RS256/ES256 keys, instead of SUPABASE_JWT_SECRET.'),
  AUTH_AUDIENCE: z.string().default('authenticated').describe('Audience a dealer or admin token must carry.'),
  AUTH_ISSUER: optionalText.describe('Issuer a token must carry; checked only when set.'),
  AUTH_ADMIN_ROLE: z.string().default('admin').describe("The `app_metadata.role` (or `role`) that makes a token an admin's."),
  IDEMPOTENCY_TTL_HOURS: int(24, 1, 24 * 30).describe('How long an `Idempotency-Key` answer is kept.'),
  TEST_EXIT_AFTER_IDEMPOTENT_COMMIT: bool(false).describe(
    'Test only, ignored in production: the process kills itself right after an Idempotency-Key write commits, before it answers, as a crash would.',
  ),
  RATE_LIMIT_STORE: z
    .enum(['memory', 'postgres'])
    .default('memory')
    .describe('`postgres` keeps the rate-limit counters in PostgreSQL, shared by all instances; `memory` keeps them per instance.'),

  RATE_LIMIT_ENABLED: bool(true).describe('False switches every rate limit off (for a benchmark, say).'),
  RATE_LIMIT_GLOBAL_PER_MINUTE: int(600, 1).describe('Requests per IP per minute over all of `/api`.'),
  RATE_LIMIT_VEHICLE_PER_HOUR: int(60, 1).describe('Plate lookups per IP per hour.'),
  RATE_LIMIT_COMPANY_PER_HOUR: int(30, 1).describe('Company checks per IP per hour.'),
  RATE_LIMIT_SMS_PER_PHONE_PER_HOUR: int(5, 1).describe('Codes sent to one phone number from one client IP per hour.'),
  RATE_LIMIT_SMS_PER_PHONE_ALL_CLIENTS_PER_HOUR: int(15, 1).describe(
    'Codes sent to one phone number from all clients together per hour (bounds the texts one number gets).',
  ),
  RATE_LIMIT_SMS_PER_IP_PER_HOUR: int(20, 1).describe('Verification codes sent per IP per hour.'),
  RATE_LIMIT_SMS_PER_PREFIX_PER_DAY: int(30, 1).describe(
    'SMS codes a day to one number range (the number without its last 4 digits, 10,000 numbers), against SMS pumping',
  ),
  SMS_ALLOWED_COUNTRIES: z
    .string()
    .default('IS')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().refine((c) => isSupportedCountry(c), 'a two-letter country code (ISO 3166), such as IS'))
        .min(1, 'at least one country'),
    )
    .describe('Comma-separated ISO 3166 country codes whose phone numbers may be sent SMS codes'),
  RATE_LIMIT_VERIFY_PER_PHONE_PER_15MIN: int(10, 1).describe('Code checks for one phone number from one client IP per 15 minutes.'),
  RATE_LIMIT_ESTIMATE_PER_HOUR: int(60, 1).describe('Price estimates per IP per hour.'),
  RATE_LIMIT_SELLER_LOGIN_PER_PLATE_PER_HOUR: int(5, 1).describe('Seller sign-in requests per plate and e-mail together per hour.'),
  RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR: int(20, 1).describe('Seller sign-in codes asked for per IP per hour.'),
  RATE_LIMIT_SELLER_VERIFY_PER_PLATE_PER_15MIN: int(10, 1).describe(
    'Seller sign-in code checks per plate and e-mail together per 15 minutes.',
  ),
  RATE_LIMIT_SELLER_VERIFY_PER_IP_PER_15MIN: int(30, 1).describe('Seller sign-in code checks per client IP per 15 minutes.'),
  RATE_LIMIT_DEALER_LOGIN_PER_EMAIL_PER_HOUR: int(5, 1).describe('Dealer sign-in requests per e-mail per hour.'),
  RATE_LIMIT_DEALER_LOGIN_PER_IP_PER_HOUR: int(20, 1).describe('Dealer sign-in codes asked for per IP per hour.'),
  RATE_LIMIT_DEALER_VERIFY_PER_EMAIL_PER_15MIN: int(10, 1).describe('Dealer sign-in code checks per e-mail per 15 minutes.'),
  RATE_LIMIT_DEALER_VERIFY_PER_IP_PER_15MIN: int(30, 1).describe('Dealer sign-in code checks per client IP per 15 minutes.'),

  CREDITINFO_USERNAME: optionalText.describe(
    'Vehicle registry (Creditinfo) user name; the lookup is live only with all four CREDITINFO_ credentials.',
  ),
  CREDITINFO_PASSWORD: optionalText.describe('Vehicle registry (Creditinfo) password.'),
  CREDITINFO_CLIENT_ID: optionalText.describe('Vehicle registry (Creditinfo) OAuth2 client id.'),
  CREDITINFO_CLIENT_SECRET: optionalText.describe('Vehicle registry (Creditinfo) OAuth2 client secret.'),
  CREDITINFO_TOKEN_URL: url('https://login.creditinfo.is/connect/token').describe("Creditinfo's OAuth2 token endpoint."),
  VEHICLE_API_BASE: url('https://api.creditinfo.is/vehicleregistrycore').describe("Creditinfo's vehicle registry API."),
  CREDITINFO_TIMEOUT_MS: int(8000, 1).describe('One deadline for the token and the lookup together.'),

  BREVO_API_KEY: optionalText.describe(
    'Brevo API key for transactional e-mail and contacts; unset, Brevo is a sandbox (503 in production).',
  ),
  BREVO_API_BASE: url('https://api.brevo.com/v3').describe("Brevo's API."),
  BREVO_SENDER_EMAIL: optionalText.pipe(z.string().email().optional()).describe('Sender address of plain (non-template) e-mails.'),
  BREVO_SENDER_NAME: z.string().default('Kaggi').describe('Sender name of plain (non-template) e-mails.'),
  BREVO_WELCOME_TEMPLATE_ID: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('Brevo template of the welcome e-mail; unset, a plain message from the sender.'),
  BREVO_LIST_ID: int(3, 1).describe('Brevo contact list new contacts are added to.'),
  BREVO_DOI_TEMPLATE_ID: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('Brevo double opt-in template: list sign-ups get this confirmation e-mail and join BREVO_LIST_ID only after confirming'),
  BREVO_DOI_REDIRECT_URL: url('https://kaggi.is/').describe('Where Brevo sends a contact after they confirm a list sign-up'),
  BREVO_TIMEOUT_MS: int(8000, 1).describe('Deadline of one Brevo call.'),
  BREVO_OUTBID_TEMPLATE_ID: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('Brevo template of the outbid e-mail; unset, a plain subject and HTML body.'),
  BREVO_SELLER_CODE_TEMPLATE_ID: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe("Brevo template of the seller's sign-in e-mail (the code in `params.code`); unset, a plain subject and HTML with the code."),

  SELLER_TOKEN_SECRET: optionalText
    .pipe(z.string().min(32, 'at least 32 characters').optional())
    .describe(
      'Signs seller session tokens (HS256, at least 32 characters); unset, a random per-process secret outside production (tokens die at restart) and 503 `not_configured` on the seller endpoints in production.',
    ),
  SELLER_SESSION_HOURS: int(12, 1, 24 * 30).describe('How long a seller token is valid.'),
  BREVO_DEALER_CODE_TEMPLATE_ID: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe("Brevo template of the dealer's sign-in e-mail (the code in `params.code`); unset, a plain subject and HTML with the code."),
  DEALER_TOKEN_SECRET: optionalText
    .pipe(z.string().min(32, 'at least 32 characters').optional())
    .describe(
      'Signs dealer session tokens (HS256, at least 32 characters); unset, a random per-process secret outside production (tokens die at restart) and 503 `not_configured` on dealer sign-in in production.',
    ),
  DEALER_SESSION_HOURS: int(12, 1, 24 * 30).describe('How long a dealer token is valid.'),

  LISTING_REQUIRES_PHONE: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((v) => (v === undefined ? undefined : ['true', '1', 'yes', 'on'].includes(v)))
    .describe(
      'A registered car stays unconfirmed (unlisted, no auction, no sign-in) until its phone is verified by SMS code; default true in production, false elsewhere.',
    ),

  AUCTION_DURATION_HOURS: int(48, 1, 24 * 90).describe('How long a car that becomes `active` takes bids.'),
  BID_INCREMENT_ISK: int(12000, 1, 10_000_000).describe(
    'Smallest step between bids and smallest first bid, whole ISK; each auction keeps the value it opened with.',
  ),
  AUCTION_SOFT_CLOSE_MINUTES: int(2, 0, 24 * 60).describe(
    'A bid accepted this close to the end moves the end to now plus this (`0` turns soft close off).',
  ),
  AUCTION_WORKER_ENABLED: bool(true).describe('Runs the closing job and the e-mail outbox worker (pg-boss) in this process.'),
  AUCTION_CLOSE_INTERVAL_SECONDS: int(15, 1, 3600).describe(
    'How often ended auctions are looked for (an auction due sooner gets its own job).',
  ),
  SELLER_DECISION_HOURS: int(48, 1, 24 * 90).describe(
    'How long a seller has to accept or decline once the auction has closed; then the car is `expired`.',
  ),
  SALE_PAYMENT_DAYS: int(2, 1, 90).describe('Days from a sale within which the buyer must pay; then the sweep marks the sale `overdue`.'),
  SALE_PICKUP_DAYS: int(3, 1, 90).describe(
    "Days from the buyer's payment within which the buyer must pick the car up; then the sale is `overdue`.",
  ),
  SALE_OVERDUE_INTERVAL_SECONDS: int(300, 1, 86_400).describe('How often sales past a deadline are looked for.'),
  ALERT_INTERVAL_SECONDS: int(15, 1, 3600).describe(
    "How often the dealer-alerts job runs: rounds that opened since its last run are matched against dealers' saved searches (instant alerts), the daily digests and the end-of-round reminders are queued.",
  ),
  ALERT_DIGEST_HOUR: int(17, 0, 23).describe(
    "The hour (UTC) from which the day's digest of new matches goes to dealers whose saved searches alert `daily` (once per dealer per day, nothing when there are none).",
  ),
  AUCTION_REMINDER_MINUTES: int(60, 1, 24 * 60).describe(
    'How long before a round ends the dealers who bid on the car or keep it as a favourite get one reminder.',
  ),
  BACKOFFICE_EMAIL: optionalText
    .pipe(z.string().email().optional())
    .describe("The back office's address: overdue sales are reported there; unset, only the buyer is told."),
  DATA_ENCRYPTION_KEY: optionalText
    .refine((v) => {
      if (v === undefined) return true;
      return v.split(',').every((part) => /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=$/.test(part.trim()));
    }, '<id>:<32 bytes in base64>, several separated by commas (the first seals)')
    .describe(
      "Seals the sale's sensitive fields at rest (AES-256-GCM): `<id>:<32 bytes base64>`, several comma-separated for rotation, the first seals; unset, a random per-process key outside production and 503 `not_configured` for them in production.",
    ),
  OUTBOX_POLL_INTERVAL_SECONDS: int(5, 1, 3600).describe('How often the e-mail outbox is read.'),
  OUTBOX_BATCH_SIZE: int(20, 1, 500).describe('Outbox rows sent per run.'),
  OUTBOX_MAX_ATTEMPTS: int(50, 1, 1000).describe('Attempts at one e-mail before it is marked `failed`.'),
  OUTBOX_RETRY_BASE_SECONDS: int(30, 1, 86_400).describe(
    'First retry delay of a failed e-mail, doubled at each retry up to OUTBOX_RETRY_MAX_SECONDS.',
  ),
  OUTBOX_RETRY_MAX_SECONDS: int(3600, 1, 7 * 86_400).describe('Longest retry delay of a failed e-mail.'),

  SSE_HEARTBEAT_SECONDS: int(15, 1, 3600).describe(
    'A comment line on every live stream this often, so proxies keep idle streams open; slow clients are checked at the same beat.',
  ),
  SSE_RETRY_MS: int(3000, 100, 600_000).describe('The `retry:` hint: how long a browser waits before reconnecting a dropped stream.'),
  SSE_MAX_CONNECTIONS: int(5000, 1).describe('Open live streams per instance; beyond, 503 `too_many_streams`.'),
  SSE_MAX_CONNECTIONS_PER_IP: int(20, 1).describe(
    "Open live streams per client (the rate limiter's client key: an IPv6 /56 is one client); beyond, 429 `too_many_streams`.",
  ),
  SSE_REPLAY_LIMIT: int(1000, 1, 100_000).describe(
    "Events a reconnecting client may catch up with `Last-Event-ID`; further behind, a fresh `snapshot` (a car's stream) or `reset` (every car's).",
  ),
  SSE_SLOW_CLIENT_BYTES: int(1_048_576, 1024).describe('A client with this much unread output is disconnected.'),
  SSE_SLOW_CLIENT_SECONDS: int(30, 1, 3600).describe('A client whose output has waited this long to drain is disconnected.'),

  TWILIO_ACCOUNT_SID: optionalText.describe(
    'Twilio account SID (starts with AC); SMS is live with it, TWILIO_AUTH_TOKEN and a Verify service or phone number.',
  ),
  TWILIO_AUTH_TOKEN: optionalText.describe('Twilio auth token.'),
  TWILIO_VERIFY_SERVICE_SID: optionalText.describe(
    'Twilio Verify service that sends and checks the verification codes (preferred over TWILIO_PHONE_NUMBER).',
  ),
  TWILIO_PHONE_NUMBER: optionalText.describe(
    'Sender number for our own 6-digit codes by SMS, used when TWILIO_VERIFY_SERVICE_SID is unset.',
  ),
  TWILIO_API_BASE: optionalUrl.describe("Sends every Twilio call to this origin instead of Twilio's (staging, tests)."),
  TWILIO_TIMEOUT_MS: int(8000, 1).describe('Deadline of one Twilio call.'),

  RSK_API_BASE: url('https://api.skattur.cloud/legalentities/v2').describe('The company registry (RSK) API.'),
  RSK_API_KEY: optionalText.describe(
    'Company registry subscription key; unset, a sandbox outside production and calls without a key in production.',
  ),
  RSK_TIMEOUT_MS: int(8000, 1).describe('Deadline of one company registry call.'),

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

  RETENTION_SWEEP_INTERVAL_MINUTES: int(60, 1, 24 * 60).describe(
    'How often the retention job purges expired rows (once per interval across all instances).',
  ),
  RETENTION_BATCH_SIZE: int(1000, 1, 100_000).describe(
    'Rows one DELETE of the retention job removes; each batch is its own short statement.',
  ),
  RETENTION_RATE_LIMIT_HITS_HOURS: int(1, 0, 24 * 365).describe(
    'Hours a rate-limit counter (rate_limit_hits) is kept after its window has reset.',
  ),
  RETENTION_IDEMPOTENCY_KEYS_HOURS: int(48, 1, 24 * 365).describe(
    'Hours an Idempotency-Key (idempotency_keys) is kept after it was first used; never less than IDEMPOTENCY_TTL_HOURS.',
  ),
  RETENTION_ONE_TIME_CODES_HOURS: int(24, 0, 24 * 365).describe(
    'Hours a used or expired one-time code (phone_verifications, seller_login_codes) is kept after its use or expiry.',
  ),
  RETENTION_OUTBOX_SENT_DAYS: int(30, 1, 3650).describe(
    'Days a sent (or sandbox) e-mail stays in email_outbox after sending; pending and failed rows stay.',
  ),

  SALE_RETENTION_YEARS: int(7, 1, 30).describe(
    "Years a sold car's contract data (the sale, price, the parties as on the contract) is kept under legal hold (bookkeeping law).",
  ),
  RETENTION_UNSOLD_DAYS: int(180, 1, 3650).describe(
    "Days after a car's round ended unsold (declined, withdrawn, expired, lapsed) until its seller's personal data is erased by the retention job.",
  ),
  RETENTION_LOGS_DAYS: int(90, 1, 3650).describe('Days the vehicle-lookup, company-check, SMS-verification and e-mail logs are kept.'),
  CONSENT_REQUIRED: bool(false).describe(
    'Registration (car or dealer) without `consent.terms_version` answers 422; always so in production.',
  ),

  STORAGE_DRIVER: z
    .enum(['disk', 's3'])
    .default('disk')
    .describe('Where photos are stored: `disk` (files under MEDIA_DIR, served at /media/) or `s3` (any S3-compatible store, S3_*).'),
  MEDIA_DIR: z.string().default('.data/media').describe('With STORAGE_DRIVER=disk: the directory photo files are written to.'),
  MEDIA_PUBLIC_BASE_URL: optionalUrl.describe(
    "The URL photo object names are appended to in answers (a CDN, the bucket's public address, or this API's public origin + `/media/`); unset, `http://localhost:PORT/media/` on disk and the endpoint's bucket address on s3.",
  ),
  S3_ENDPOINT: optionalUrl.describe("With STORAGE_DRIVER=s3: the S3 API endpoint (R2, MinIO, Supabase Storage's S3 URL); unset, AWS S3."),
  S3_REGION: z.string().default('us-east-1').describe('With STORAGE_DRIVER=s3: the region requests are signed for.'),
  S3_BUCKET: optionalText.describe('With STORAGE_DRIVER=s3: the bucket photos are stored in (required then).'),
  S3_ACCESS_KEY_ID: optionalText.describe("With STORAGE_DRIVER=s3: the access key id; unset, the SDK's default credential chain."),
  S3_SECRET_ACCESS_KEY: optionalText.describe('With STORAGE_DRIVER=s3: the secret access key.'),
  S3_FORCE_PATH_STYLE: bool(false).describe(
    'With STORAGE_DRIVER=s3: address the bucket as a path (`endpoint/bucket/key`, MinIO and Supabase) instead of a host name.',
  ),
  PHOTO_MAX_BYTES: int(15 * 1024 * 1024, 1024).describe('Largest photo upload in bytes; a larger one answers 413 `photo_too_large`.'),
  PHOTO_MAX_PIXELS: int(50_000_000, 1).describe(
    'Most pixels a photo may decode to (decompression bombs); more answers 422 `image_too_large`.',
  ),
  PHOTO_MAX_PER_CAR: int(40, 1, 1000).describe('Photos one car may have; one more answers 409 `too_many_photos`.'),
  PHOTO_PROCESSING_CONCURRENCY: int(1, 1, 64).describe(
    'Photos decoded and resized at once per instance; 1 keeps 10 concurrent 12 MP uploads under 250 MB (with MALLOC_ARENA_MAX=2), each more adds about 40 MB and throughput.',
  ),
  PHOTO_QUEUE_LENGTH: int(16, 0, 10_000).describe(
    'Uploads that may wait for a processing slot; beyond, 503 `photo_queue_full` with Retry-After.',
  ),
  RATE_LIMIT_PHOTO_UPLOADS_PER_IP_PER_HOUR: int(200, 1).describe('Photo uploads per client IP per hour.'),
  RATE_LIMIT_PHOTO_UPLOADS_PER_TOKEN_PER_HOUR: int(100, 1).describe('Photo uploads per seller token (or admin token) per hour.'),
  MEDIA_SWEEP_INTERVAL_MINUTES: int(60, 1, 24 * 60).describe(
    'How often stored photo objects that no photo row names (and older than an hour) are removed.',
  ),
});

const checked = configSchema
  .superRefine((env, ctx) => {
    // Open by accident is the dangerous default: anyone could act for any dealer.
    if (env.NODE_ENV === 'production' && env.AUTH_MODE === undefined) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: 'set AUTH_MODE=jwt, or AUTH_MODE=off to run open on purpose' });
    }
    if (env.AUTH_MODE === 'jwt' && !env.SUPABASE_JWT_SECRET && !env.AUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: 'AUTH_MODE=jwt needs SUPABASE_JWT_SECRET or AUTH_JWKS_URL' });
    }
  })
  .transform((env) => ({ ...env, AUTH_MODE: env.AUTH_MODE ?? ('off' as const) }));

// Defaults that depend on NODE_ENV are settled here, so every reader gets a plain value.
const resolved = checked.transform((env) => ({
  ...env,
  LISTING_REQUIRES_PHONE: env.LISTING_REQUIRES_PHONE ?? env.NODE_ENV === 'production',
}));

export type Config = Readonly<z.output<typeof resolved>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Treat empty strings as unset so `FOO=` in a .env file means "default".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = resolved.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  return Object.freeze(parsed.data);
}
