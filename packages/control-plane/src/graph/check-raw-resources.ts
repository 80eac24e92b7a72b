import { resourceType, TypeUrl } from "@ts-control-plane/xds";
import type { Diagnostic } from "../model/model-object.ts";
import type { GraphGroup } from "./graph.ts";
import { findFilenameSources } from "./find-filename-sources.ts";
import { clusterName, listenerName, routeConfigName } from "./resource-names.ts";

/**
 * Raw resources must fit in every group they land in: no name shared with a generated
 * resource (or another raw one) of the same type, since Envoy NACKs duplicate names in a
 * response; and every EDS and RDS name they reference present in the same group
 * (docs/xds-protocol.md § Consistency before sending: a dangling name is a silent 503 later).
 * And, unless the operator allows it (`serve --allow-raw-filename`), no DataSource naming a
 * file: whoever may write objects must not make Envoy read files on its host (issue 13).
 */
export function checkRawResources(groups: readonly GraphGroup[], options: { readonly allowFilename?: boolean } = {}): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const g of groups) {
    if (options.allowFilename !== true) {
      for (const r of g.raw) {
        const key = `RawResource/${r.name}`;
        const [first, ...more] = findFilenameSources(r.spec.message);
        if (first === undefined || out.has(key)) continue;
        out.set(key, {
          severity: "error",
          code: "raw.filename",
          message: `the ${shortType(r.spec.typeUrl)} makes Envoy read the file ${JSON.stringify(first.filename)} on its host${more.length > 0 ? ` (and ${more.length} more file${more.length === 1 ? "" : "s"})` : ""}, which is refused`,
          hint: "write the content inline (inline_string or inline_bytes), or start the control plane with --allow-raw-filename to allow files",
          object: key,
          path: `spec.resource.${first.path}.filename`,
        });
      }
    }
    const names = new Map<string, Map<string, string>>(); // typeUrl -> name -> owner objectKey
    const add = (typeUrl: string, name: string, owner: string): string | undefined => {
      let m = names.get(typeUrl);
      if (m === undefined) names.set(typeUrl, (m = new Map()));
      const prior = m.get(name);
      if (prior === undefined) m.set(name, owner);
      return prior;
    };
    for (const l of g.listeners) {
      add(TypeUrl.Listener, listenerName(l.name), `Listener/${l.name}`);
      if (l.protocol === "HTTP" || l.protocol === "HTTPS") add(TypeUrl.Route, routeConfigName(l.name), `Listener/${l.name}`);
    }
    for (const s of g.services) {
      add(TypeUrl.Cluster, clusterName(s.name), `Service/${s.name}`);
      if (s.spec.discovery === "Static") add(TypeUrl.Endpoint, clusterName(s.name), `Service/${s.name}`);
    }
    const placed: GraphGroup["raw"][number][] = [];
    for (const r of g.raw) {
      const key = `RawResource/${r.name}`;
      const prior = add(r.spec.typeUrl, r.spec.name, key);
      if (prior !== undefined) {
        if (!out.has(key)) {
          out.set(key, {
            severity: "error",
            code: "raw.name_conflict",
            message: `a ${shortType(r.spec.typeUrl)} named '${r.spec.name}' is already produced by ${prior}${g.name === "default" ? "" : ` in node group '${g.name}'`}`,
            hint: `rename the raw resource, or remove ${prior}`,
            object: key,
            path: r.spec.typeUrl === TypeUrl.Endpoint ? "spec.resource.cluster_name" : "spec.resource.name",
          });
        }
        continue;
      }
      placed.push(r);
    }
    for (const r of placed) {
      const key = `RawResource/${r.name}`;
      for (const ref of resourceType(r.spec.typeUrl)?.references(r.spec.message) ?? []) {
        const missing = ref.names.filter((n) => !(names.get(ref.typeUrl)?.has(n) ?? false));
        if (missing.length === 0 || out.has(key)) continue;
        out.set(key, {
          severity: "error",
          code: "raw.dangling_reference",
          message: `the ${shortType(r.spec.typeUrl)} references ${shortType(ref.typeUrl)} '${missing[0]}', which ${g.name === "default" ? "nothing produces" : `node group '${g.name}' does not receive`}`,
          hint: `add a RawResource (or a Service/Listener) producing ${shortType(ref.typeUrl)} '${missing[0]}'${g.name === "default" ? "" : " to the same node group"}`,
          object: key,
          path: "spec.resource",
        });
      }
    }
  }
  return [...out.values()];
}

function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}
