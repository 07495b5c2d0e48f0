/** Tracing's shape, apart from tracing.ts so that the lazily loaded SDK (otel.ts) implements it without a cycle. */

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
