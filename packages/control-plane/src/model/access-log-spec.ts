import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { accessLogSchema } from "./schema/access-log-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const accessLogFields = schemaFields(accessLogSchema);

export interface FileAccessLogSpec {
  type: "file";
  /** File to append to, e.g. /dev/stdout. */
  path: string;
  /** A text format with Envoy command operators, or a JSON object of them; Envoy's default format when neither. */
  format?: { text: string } | { json: Record<string, string> };
}

/** Log records sent over OTLP gRPC (envoy.access_loggers.open_telemetry). */
export interface OpenTelemetryAccessLogSpec {
  type: "opentelemetry";
  /** The Service of the OTLP collector; it must be HTTP2 (gRPC). */
  service: string;
  /** Reported as the log_name resource attribute; the AccessLog's own name when absent. */
  logName: string;
  /** The record's body: a text with Envoy command operators; none when absent. */
  body?: string;
  /** The record's attributes: name -> text with Envoy command operators. */
  attributes?: Record<string, string>;
}

export type AccessLogSpec = FileAccessLogSpec | OpenTelemetryAccessLogSpec;

const fileFields = ["path", "format", "json"];
const otelFields = ["service", "logName", "body", "attributes"];

export function validateAccessLog(spec: Record<string, unknown>, r: SpecReader, name: string): AccessLogSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, accessLogFields);
  if (rec === undefined) return undefined;
  const given = r.enumeration(rec, "type", path, ["file", "opentelemetry"] as const);
  // An unknown type is its own error: checking the rest against a guess would only add noise.
  if (given === undefined && rec["type"] !== undefined) return undefined;
  const type = given ?? "file";
  // Fields of the other type are refused by name, so a typo of `type` is not silently a file log.
  const foreign = (type === "file" ? otelFields : fileFields).find((f) => rec[f] !== undefined);
  if (foreign !== undefined) {
    r.error([...path, foreign], "access_log.wrong_type", `${foreign} is a field of ${type === "file" ? "opentelemetry" : "file"} access logs, and this one is type: ${type}`, type === "file" ? `set type: opentelemetry, or remove ${foreign}` : `remove ${foreign}; opentelemetry logs take service, logName, body and attributes`);
  }
  return type === "file" ? readFile(rec, path, r) : readOpenTelemetry(rec, path, r, name);
}

function readFile(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): FileAccessLogSpec | undefined {
  const file = r.string(rec, "path", path, { required: true });
  const text = r.string(rec, "format", path);
  const json = r.stringMap(rec, "json", path);
  if (text !== undefined && json !== undefined) r.error([...path, "json"], "access_log.format_conflict", "format and json are both set", "keep one: format (text) or json (structured)");
  if (r.failed || file === undefined) return undefined;
  const out: FileAccessLogSpec = { type: "file", path: file };
  if (text !== undefined) out.format = { text: text.endsWith("\n") ? text : `${text}\n` };
  else if (json !== undefined) out.format = { json };
  return out;
}

function readOpenTelemetry(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader, name: string): OpenTelemetryAccessLogSpec | undefined {
  const service = r.string(rec, "service", path, { required: true });
  const logName = r.string(rec, "logName", path) ?? name;
  const body = r.string(rec, "body", path);
  const attributes = r.stringMap(rec, "attributes", path);
  if (r.failed || service === undefined) return undefined;
  const out: OpenTelemetryAccessLogSpec = { type: "opentelemetry", service, logName };
  if (body !== undefined) out.body = body;
  if (attributes !== undefined) out.attributes = attributes;
  return out;
}
