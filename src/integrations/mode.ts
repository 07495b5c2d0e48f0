import type { Config } from '../config.js';

/**
 * How an outside-service client runs:
 * - `live`: credentials are configured, calls go to the real (or configured) service;
 * - `sandbox`: credentials are missing outside production, calls answer clearly labelled
 *   fixed data and never touch the network;
 * - `disabled`: credentials are missing in production, every call throws 503 `not_configured`.
 */
export type IntegrationMode = 'live' | 'sandbox' | 'disabled';

export function resolveMode(configured: boolean, config: Pick<Config, 'NODE_ENV'>): IntegrationMode {
  if (configured) return 'live';
  return config.NODE_ENV === 'production' ? 'disabled' : 'sandbox';
}
