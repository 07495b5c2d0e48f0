import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { TwilioRateLimited } from './twilio-rate-limited.js';

/**
 * The twilio SDK itself, in a module of its own so that it is loaded only when
 * Twilio is configured and first used (src/integrations/twilio.ts).
 */

export type TwilioSdk = ReturnType<typeof twilio>;

type RequestOptions<T> = RequestClient.RequestOptions<T>;
type RequestClientCtor = new (opts?: RequestClient.RequestClientOptions) => RequestClient;

/**
 * twilio's RequestClient, with (1) an overall deadline per request and (2) when `base` is
 * given, the origin of every request URI replaced by `base` (its path, if any, is prefixed).
 */
export class RebasingRequestClient extends (twilio.RequestClient as RequestClientCtor) {
  private readonly base?: URL;
  private readonly deadlineMs: number;

  constructor(opts: { base?: string; timeoutMs: number }) {
    super({ timeout: opts.timeoutMs, keepAlive: true });
    this.base = opts.base ? new URL(opts.base) : undefined;
    this.deadlineMs = opts.timeoutMs;
    // axios' own timeout is an idle-socket timeout; the signal bounds the whole exchange.
    this.axios.interceptors.request.use((cfg) => {
      cfg.signal = AbortSignal.timeout(this.deadlineMs);
      return cfg;
    });
  }

  rewrite(uri: string): string {
    if (!this.base) return uri;
    const original = new URL(uri);
    const prefix = this.base.pathname.replace(/\/+$/, '');
    return `${this.base.origin}${prefix}${original.pathname}${original.search}`;
  }

  override async request<TData>(opts: RequestOptions<TData>) {
    const res = await super.request({ ...opts, uri: this.rewrite(opts.uri), timeout: this.deadlineMs });
    if (res.statusCode === 429) {
      let body: unknown = res.body;
      if (typeof body === 'string') {
        try {
          body = JSON.parse(body);
        } catch {
          body = null;
        }
      }
      const code = (body as { code?: unknown } | null)?.code;
      const headers = (res.headers ?? {}) as Record<string, unknown>;
      const retryAfter = headers['retry-after'];
      throw new TwilioRateLimited(typeof code === 'number' ? code : undefined, typeof retryAfter === 'string' ? retryAfter : undefined);
    }
    return res;
  }
}

export function createTwilioSdk(sid: string, token: string, http: { base?: string; timeoutMs: number }): TwilioSdk {
  return twilio(sid, token, {
    httpClient: new RebasingRequestClient(http),
    // The SDK's own debug logging (TWILIO_LOG_LEVEL=debug) writes requests to stdout: keep it off.
    logLevel: 'warn',
    autoRetry: false,
  });
}
