import type { Config } from '../config.js';
import type { Tracing } from './tracing-types.js';

export type { RequestSpan, Tracing } from './tracing-types.js';

/**
 * Tracing as the rest of the code sees it. Off (the default) it is a variable
 * holding `undefined`: no OpenTelemetry SDK is loaded (src/observability/otel.ts
 * is imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set), and each hook
 * below is one check of that variable.
 */

let active: Tracing | undefined;

export function tracing(): Tracing | undefined {
  return active;
}

/** Loads and registers the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise does nothing. */
export async function startTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME' | 'OTEL_TRACES_SAMPLE_RATIO'>,
): Promise<Tracing | undefined> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT || active) return active;
  const { createOtelTracing } = await import('./otel.js');
  active = createOtelTracing({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.OTEL_SERVICE_NAME,
    sampleRatio: config.OTEL_TRACES_SAMPLE_RATIO,
  });
  return active;
}

export async function stopTracing(): Promise<void> {
  const current = active;
  active = undefined;
  await current?.shutdown();
}

/** A call to Creditinfo, Brevo, Twilio or RSK: a client span when tracing is on, the bare call otherwise. */
export function traceClient<T>(
  service: string,
  operation: string,
  fn: () => Promise<T>,
  status?: (value: T) => number | undefined,
): Promise<T> {
  return active ? active.client(service, operation, fn, status) : fn();
}
