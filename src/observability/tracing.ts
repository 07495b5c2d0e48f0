import type { Config } from '../config.js';

/**
 * Tracing as the rest of the code sees it. Off (the default) it is a variable
 * holding `undefined`: no OpenTelemetry SDK is loaded (src/observability/otel.ts
 * is imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set), and each hook
 * below is one check of that variable.
 */

/** The server span of one request. */
export type RequestSpan = {
  readonly traceId: string;
  /** Runs `fn` (the rest of the request) with this span as the active one, so query and client spans become its children. */
  enter(fn: () => void): void;
  /** Names the span by its operation (the raw path never: it holds e-mails and ids), records the status, ends it. */
  end(operation: string | undefined, status: number): void;
};

export type Tracing = {
  startRequest(method: string, headers: Record<string, string | string[] | undefined>): RequestSpan;
  /** A client span around a call to an outside service. */
  client<T>(service: string, operation: string, fn: () => Promise<T>, status?: (value: T) => number | undefined): Promise<T>;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Sends what is buffered and unregisters the SDK. */
  shutdown(): Promise<void>;
};

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
