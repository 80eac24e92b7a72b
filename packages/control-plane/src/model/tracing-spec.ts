import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { tracingSchema } from "./schema/tracing-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(tracingSchema);
const zipkinFields = schemaFields(tracingSchema, "zipkin");
const openTelemetryFields = schemaFields(tracingSchema, "opentelemetry");

export interface ZipkinTracing {
  /** The Service whose cluster receives the spans (Zipkin collector_cluster). */
  service: string;
  endpoint: string;
  version: "HTTP_JSON" | "HTTP_PROTO";
  sharedSpanContext: boolean;
}

export interface OpenTelemetryTracing {
  /** The Service of the OTLP collector; spans go to it over gRPC, so it must be HTTP2. */
  service: string;
  /** service.name of the spans' resource; Envoy reports unknown_service:envoy when absent. */
  serviceName?: string;
}

/** One provider, named by its key (zipkin or opentelemetry), plus the sampling every provider shares. */
export type TracingSpec = ({ zipkin: ZipkinTracing } | { opentelemetry: OpenTelemetryTracing }) & {
  /** Share of requests traced, 0..100. */
  samplingPercent: number;
};

const providers = ["zipkin", "opentelemetry"] as const;

export function validateTracing(spec: Record<string, unknown>, r: SpecReader): TracingSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const given = providers.filter((p) => rec[p] !== undefined);
  if (given.length === 0) {
    r.error([...path, "zipkin"], "schema.required", "a tracing provider is required: zipkin or opentelemetry", "add zipkin.service or opentelemetry.service naming the collector's Service");
    return undefined;
  }
  if (given.length > 1) {
    r.error([...path, "opentelemetry"], "tracing.provider_conflict", "zipkin and opentelemetry are both set; a Tracing has one provider", "keep one, or make a second Tracing object for the other");
    return undefined;
  }
  const samplingPercent = readPercent(rec, path, r);
  if (rec["opentelemetry"] !== undefined) {
    const opentelemetry = readOpenTelemetry(rec["opentelemetry"], [...path, "opentelemetry"], r);
    return opentelemetry === undefined || r.failed ? undefined : { opentelemetry, samplingPercent };
  }
  const zipkin = readZipkin(rec["zipkin"], [...path, "zipkin"], r);
  return zipkin === undefined || r.failed ? undefined : { zipkin, samplingPercent };
}

/** The collector Service a Tracing sends to, and the path of that field (for reference diagnostics). */
export function tracingService(spec: TracingSpec): { service: string; path: PathSegment[] } {
  return "zipkin" in spec ? { service: spec.zipkin.service, path: ["spec", "zipkin", "service"] } : { service: spec.opentelemetry.service, path: ["spec", "opentelemetry", "service"] };
}

function readZipkin(value: unknown, zp: PathSegment[], r: SpecReader): ZipkinTracing | undefined {
  const z = r.mapping(value, zp, zipkinFields);
  if (z === undefined) return undefined;
  const service = r.string(z, "service", zp, { required: true });
  // Zipkin's v2 HTTP API; Envoy has no default for collector_endpoint.
  const endpoint = r.string(z, "endpoint", zp) ?? "/api/v2/spans";
  if (!endpoint.startsWith("/")) r.error([...zp, "endpoint"], "route.path_slash", `endpoint '${endpoint}' does not start with /`, `write it as '/${endpoint}'`);
  const version = r.enumeration(z, "version", zp, ["HTTP_JSON", "HTTP_PROTO"] as const) ?? "HTTP_JSON";
  const sharedSpanContext = r.boolean(z, "sharedSpanContext", zp) ?? true;
  return service === undefined ? undefined : { service, endpoint, version, sharedSpanContext };
}

function readOpenTelemetry(value: unknown, op: PathSegment[], r: SpecReader): OpenTelemetryTracing | undefined {
  const o = r.mapping(value, op, openTelemetryFields);
  if (o === undefined) return undefined;
  const service = r.string(o, "service", op, { required: true });
  const serviceName = r.string(o, "serviceName", op);
  if (service === undefined) return undefined;
  return serviceName === undefined ? { service } : { service, serviceName };
}

function readPercent(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): number {
  const v = rec["samplingPercent"];
  if (v === undefined) return 100;
  if (typeof v !== "number" || v < 0 || v > 100) {
    r.error([...path, "samplingPercent"], "schema.range", `samplingPercent is ${JSON.stringify(v)}, outside 0..100`, "set samplingPercent to a number from 0 to 100");
    return 100;
  }
  return v;
}
