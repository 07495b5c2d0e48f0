import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { RequestSpan, Tracing } from './tracing-types.js';

/**
 * The OpenTelemetry SDK, loaded only when tracing is configured
 * (src/observability/tracing.ts). Registering the provider globally is what
 * gives Slonik's spans (it asks the global tracer for `slonik.executeQuery`
 * and friends) a place to go, and the AsyncLocalStorage context manager the
 * node provider installs is what makes them children of the request's span.
 */
export function createOtelTracing(options: { endpoint: string; serviceName: string; sampleRatio: number }): Tracing {
  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const tracer = trace.getTracer('kaggi-backend');

  const failed = (span: Span, error: unknown) => {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  };

  return {
    startRequest(method, headers): RequestSpan {
      // A caller's traceparent makes this request part of its trace.
      const parent = headers.traceparent ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method } }, parent);
      const active = trace.setSpan(parent, span);
      return {
        traceId: span.spanContext().traceId,
        enter: (fn) => context.with(active, fn),
        end(operation, status) {
          span.updateName(operation ?? 'unmatched');
          if (operation) span.setAttribute('kaggi.operation', operation);
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    client(service, operation, fn, status) {
      return tracer.startActiveSpan(
        `${service} ${operation}`,
        { kind: SpanKind.CLIENT, attributes: { 'peer.service': service } },
        async (span) => {
          try {
            const value = await fn();
            const code = status?.(value);
            if (code !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
            return value;
          } catch (error) {
            failed(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
