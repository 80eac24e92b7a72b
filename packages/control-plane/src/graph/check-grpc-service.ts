import { formatPath, type PathSegment } from "../model/field-path.ts";
import { Kind } from "../model/kinds.ts";
import type { Diagnostic } from "../model/model-object.ts";
import type { ServiceSpec } from "../model/service-spec.ts";
import type { References } from "./references.ts";

/**
 * A reference to a Service that is spoken to over gRPC (ext_authz, OTLP tracing and
 * access logs): it must exist and be HTTP2, because gRPC needs HTTP/2 upstream and over
 * HTTP/1.1 every call fails (every check refused, every span or log record lost).
 */
export function checkGrpcService(
  refs: References,
  services: ReadonlyMap<string, ServiceSpec>,
  ref: { from: string; path: readonly PathSegment[]; service: string; what: string; code: string; otherwise?: string },
  diagnostics: Diagnostic[],
): boolean {
  if (!refs.check(ref.from, ref.path, Kind.Service, ref.service, diagnostics)) return false;
  if (services.get(ref.service)?.protocol !== "HTTP1") return true;
  diagnostics.push({
    severity: "error",
    code: ref.code,
    message: `${ref.what} speaks gRPC to Service '${ref.service}', which is HTTP1`,
    hint: `set protocol: HTTP2 on Service '${ref.service}'${ref.otherwise === undefined ? "" : `, or ${ref.otherwise}`}`,
    object: ref.from,
    path: formatPath(ref.path),
  });
  return false;
}
