import { oneOf } from "../model/did-you-mean.ts";
import type { PathSegment } from "../model/field-path.ts";
import { formatPath } from "../model/field-path.ts";
import { Kind } from "../model/kinds.ts";
import type { Diagnostic } from "../model/model-object.ts";
import type { References } from "./references.ts";

/**
 * A route backend names a Service, or a Cluster written as a RawResource (issue 8: model
 * and raw mix; a generated cluster is named after its Service, resource-names.ts, so one
 * name space serves both). `rawClusters` maps a raw Cluster's resource name to its
 * RawResource object. On failure pushes a diagnostic on `from` and returns false.
 */
export function checkBackend(
  refs: References,
  rawClusters: ReadonlyMap<string, string>,
  ref: { readonly from: string; readonly path: readonly PathSegment[]; readonly service: string },
  diagnostics: Diagnostic[],
): boolean {
  if (refs.alive(Kind.Service, ref.service)) return true;
  const raw = rawClusters.get(ref.service);
  if (raw !== undefined && refs.alive(Kind.RawResource, raw)) return true;
  if (raw !== undefined) {
    diagnostics.push({
      severity: "error",
      code: "ref.rejected",
      message: `RawResource '${raw}' (Cluster '${ref.service}') was refused, so ${ref.from} cannot use it`,
      hint: `fix the errors reported on RawResource/${raw} first`,
      object: ref.from,
      path: formatPath(ref.path),
    });
    return false;
  }
  const before = diagnostics.length;
  if (refs.check(ref.from, ref.path, Kind.Service, ref.service, diagnostics)) return true;
  const d = diagnostics[before];
  // Where raw Clusters exist they are candidates too; otherwise the hint stays the model's own.
  const alive = [...rawClusters].filter(([, object]) => refs.alive(Kind.RawResource, object)).map(([cluster]) => cluster);
  if (d !== undefined && d.code === "ref.not_found" && alive.length > 0) {
    const candidates = [...new Set([...refs.aliveNames(Kind.Service), ...alive])].sort();
    diagnostics[before] = { ...d, hint: `define Service '${ref.service}' (or a RawResource Cluster named so), or use one of: ${oneOf(candidates)}` };
  }
  return false;
}
