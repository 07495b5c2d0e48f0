import type { Config } from '../config.js';
import { ApiError, validationFailed } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestJson, stringField, UpstreamError } from './http.js';
import { kennitalaDigits } from '../domain/normalise.js';
import type { IntegrationMode } from './mode.js';

/**
 * RSK (Skatturinn) company registry: `GET {RSK_API_BASE}/{kennitala}`.
 *
 * RSK's endpoint may answer without a key, so the client is `live` whenever RSK_API_KEY is
 * set or NODE_ENV is production, and `sandbox` otherwise; it is never `disabled`.
 * Failures are 503 `upstream_unavailable` with Icelandic messages the frontend shows as-is.
 */

const SERVICE = 'RSK';
export const RSK_TIMEOUT_MESSAGE = '❌ Tími rann út við staðfestingu.';
export const RSK_UNAVAILABLE_MESSAGE = '❌ Fyrirtækjaskrá svarar ekki.';
/** Skatturinn's own kennitala: a cheap, always-existing lookup for status(). */
const PROBE_KENNITALA = '5402696029';

export type Company = { kennitala: string; name: string; sandbox: boolean };
export type RskStatus = { available: boolean; configured: boolean; sandbox: boolean };

export interface RskClient {
  readonly mode: IntegrationMode;
  /** `kennitala`: 10 digits (a hyphen is removed). null = no such company. */
  lookup(kennitala: string): Promise<Company | null>;
  status(): Promise<RskStatus>;
}

/** Sandbox companies: checksum-valid company kennitölur (day + 40), fictional names. */
export const SANDBOX_COMPANIES: Readonly<Record<string, string>> = {
  '6501192070': 'Kaggi ehf.',
  '4102153060': 'Bílaland ehf.',
  '7003214010': 'Bílasala Reykjavíkur ehf.',
  '5204225010': 'Norðurljós bílar hf.',
};

function timeoutError(cause?: unknown) {
  return new ApiError(503, 'upstream_unavailable', RSK_TIMEOUT_MESSAGE, { cause });
}
function unavailableError(cause?: unknown) {
  return new ApiError(503, 'upstream_unavailable', RSK_UNAVAILABLE_MESSAGE, { cause });
}

export function createRsk(config: Config, logger: Logger): RskClient {
  const configured = Boolean(config.RSK_API_KEY);
  const mode: IntegrationMode = configured || config.NODE_ENV === 'production' ? 'live' : 'sandbox';
  logger.info('rsk mode', { mode, keyConfigured: configured });
  const base = config.RSK_API_BASE.replace(/\/+$/, '');

  function get(kennitala: string) {
    return requestJson({
      service: SERVICE,
      url: `${base}/${encodeURIComponent(kennitala)}`,
      headers: config.RSK_API_KEY ? { 'Ocp-Apim-Subscription-Key': config.RSK_API_KEY } : {},
      timeoutMs: config.RSK_TIMEOUT_MS,
    });
  }

  return {
    mode,

    async lookup(input) {
      const kennitala = kennitalaDigits(input);
      if (!kennitala) {
        throw validationFailed([{ path: 'body.kennitala', message: 'must be 10 digits' }]);
      }
      if (mode === 'sandbox') {
        const name = SANDBOX_COMPANIES[kennitala];
        return name ? { kennitala, name, sandbox: true } : null;
      }
      let res;
      try {
        res = await get(kennitala);
      } catch (err) {
        const kind = err instanceof UpstreamError ? err.kind : 'network';
        logger.warn('rsk unavailable', { kind, status: err instanceof UpstreamError ? err.upstreamStatus : undefined });
        throw kind === 'timeout' ? timeoutError(err) : unavailableError(err);
      }
      if (res.status === 404) return null;
      if (res.status !== 200) {
        logger.warn('rsk request refused', { status: res.status });
        throw unavailableError();
      }
      const name = stringField(res.body, 'name') ?? stringField(res.body, 'nafn');
      if (!name) {
        logger.warn('rsk answered without a company name');
        throw unavailableError();
      }
      return { kennitala, name, sandbox: false };
    },

    async status() {
      if (mode === 'sandbox') return { available: true, configured, sandbox: true };
      try {
        const res = await get(PROBE_KENNITALA);
        const available = res.status === 200 || res.status === 404;
        if (!available) logger.warn('rsk status probe refused', { status: res.status });
        return { available, configured, sandbox: false };
      } catch (err) {
        logger.warn('rsk status probe failed', { kind: err instanceof UpstreamError ? err.kind : 'network' });
        return { available: false, configured, sandbox: false };
      }
    },
  };
}
