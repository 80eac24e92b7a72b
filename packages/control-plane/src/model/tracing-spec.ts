import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";

export interface TracingSpec {
  zipkin: {
    /** The Service whose cluster receives the spans (Zipkin collector_cluster). */
    service: string;
    endpoint: string;
    version: "HTTP_JSON" | "HTTP_PROTO";
    sharedSpanContext: boolean;
  };
  /** Share of requests traced, 0..100. */
  samplingPercent: number;
}

export function validateTracing(spec: Record<string, unknown>, r: SpecReader): TracingSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, ["zipkin", "samplingPercent"]);
  if (rec === undefined) return undefined;
  if (rec["zipkin"] === undefined) {
    r.error([...path, "zipkin"], "schema.required", "zipkin is required (the only tracing provider so far)", "add zipkin.service naming the collector's Service");
    return undefined;
  }
  const zp = [...path, "zipkin"];
  const z = r.mapping(rec["zipkin"], zp, ["service", "endpoint", "version", "sharedSpanContext"]);
  const samplingPercent = readPercent(rec, path, r);
  if (z === undefined) return undefined;
  const service = r.string(z, "service", zp, { required: true });
  // Zipkin's v2 HTTP API; Envoy has no default for collector_endpoint.
  const endpoint = r.string(z, "endpoint", zp) ?? "/api/v2/spans";
  if (!endpoint.startsWith("/")) r.error([...zp, "endpoint"], "route.path_slash", `endpoint '${endpoint}' does not start with /`, `write it as '/${endpoint}'`);
  const version = r.enumeration(z, "version", zp, ["HTTP_JSON", "HTTP_PROTO"] as const) ?? "HTTP_JSON";
  const sharedSpanContext = r.boolean(z, "sharedSpanContext", zp) ?? true;
  if (r.failed || service === undefined) return undefined;
  return { zipkin: { service, endpoint, version, sharedSpanContext }, samplingPercent };
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
