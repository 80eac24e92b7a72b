import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";

export interface AccessLogSpec {
  /** File to append to, e.g. /dev/stdout. */
  path: string;
  /** A text format with Envoy command operators, or a JSON object of them; Envoy's default format when neither. */
  format?: { text: string } | { json: Record<string, string> };
}

export function validateAccessLog(spec: Record<string, unknown>, r: SpecReader): AccessLogSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, ["path", "format", "json"]);
  if (rec === undefined) return undefined;
  const file = r.string(rec, "path", path, { required: true });
  const text = r.string(rec, "format", path);
  const json = r.stringMap(rec, "json", path);
  if (text !== undefined && json !== undefined) r.error([...path, "json"], "access_log.format_conflict", "format and json are both set", "keep one: format (text) or json (structured)");
  if (r.failed || file === undefined) return undefined;
  const out: AccessLogSpec = { path: file };
  if (text !== undefined) out.format = { text: text.endsWith("\n") ? text : `${text}\n` };
  else if (json !== undefined) out.format = { json };
  return out;
}
