import type { Message } from "@bufbuild/protobuf";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { resourceType, TypeUrl } from "@ts-control-plane/xds";
import type { Diagnostic } from "../model/model-object.ts";
import type { GraphGroup } from "./graph.ts";
import { checkRawContent, shortType } from "./check-raw-content.ts";
import { findRawClusterReferences } from "./find-raw-cluster-references.ts";
import { oneofOf, walkRawMessage } from "./walk-raw-message.ts";
import { clusterName, listenerName, routeConfigName } from "./resource-names.ts";

/**
 * Raw resources are checked like model objects (issue 8, part 5). On their own
 * (check-raw-content.ts): no file DataSource, RE2 regexes, unique domains. In every group
 * they land in: no name shared with a generated resource (or another raw one) of the same
 * type, since Envoy NACKs duplicate names in a response; every EDS and RDS name they
 * reference present in the same group (docs/xds-protocol.md § Consistency before sending:
 * a dangling name is a silent 503 later); every cluster their routes and TCP proxies send to
 * present too (over RDS Envoy does not NACK an unknown cluster, it answers 503). A model
 * Route or TCP/UDP Listener may send to a raw Cluster (check-backend.ts): that Cluster must
 * reach the same group. Socket conflicts of raw Listeners are settled with the model's (find-conflicts.ts).
 */
export function checkRawResources(groups: readonly GraphGroup[], options: { readonly allowFilename?: boolean; readonly changed?: ReadonlySet<string> } = {}): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const g of groups) {
    for (const r of g.raw) {
      const key = `RawResource/${r.name}`;
      const problem = out.has(key) ? undefined : checkRawContent(r.name, r.spec, { allowFilename: options.allowFilename === true });
      if (problem !== undefined) out.set(key, problem);
    }
    const names = new Map<string, Map<string, string>>(); // typeUrl -> name -> owner objectKey
    // Every resource name the group's objects claim. The object a change adds or modifies
    // loses a clash with one it does not touch (conflictOrder, as for ports and domains), so
    // a new Service never takes down a live raw Cluster; otherwise the model object wins.
    const claims: { typeUrl: string; name: string; key: string; raw?: GraphGroup["raw"][number] }[] = [];
    for (const l of g.listeners) {
      claims.push({ typeUrl: TypeUrl.Listener, name: listenerName(l.name), key: `Listener/${l.name}` });
      if (l.protocol === "HTTP" || l.protocol === "HTTPS") claims.push({ typeUrl: TypeUrl.Route, name: routeConfigName(l.name), key: `Listener/${l.name}` });
    }
    for (const sv of g.services) {
      claims.push({ typeUrl: TypeUrl.Cluster, name: clusterName(sv.name), key: `Service/${sv.name}` });
      if (sv.spec.discovery === "Static") claims.push({ typeUrl: TypeUrl.Endpoint, name: clusterName(sv.name), key: `Service/${sv.name}` });
    }
    for (const r of g.raw) claims.push({ typeUrl: r.spec.typeUrl, name: r.spec.name, key: `RawResource/${r.name}`, raw: r });
    const changed = options.changed ?? new Set<string>();
    const rank = (c: (typeof claims)[number]): string => `${changed.has(c.key) ? 1 : 0}${c.raw === undefined ? 0 : 1}${c.key}`;
    const placed: GraphGroup["raw"][number][] = [];
    for (const c of [...claims].sort((x, y) => (rank(x) < rank(y) ? -1 : rank(x) > rank(y) ? 1 : 0))) {
      let m = names.get(c.typeUrl);
      if (m === undefined) names.set(c.typeUrl, (m = new Map()));
      const prior = m.get(c.name);
      if (prior === undefined) {
        m.set(c.name, c.key);
        if (c.raw !== undefined) placed.push(c.raw);
        continue;
      }
      if (prior === c.key || out.has(c.key)) continue;
      const where = g.name === "default" ? "" : ` in node group '${g.name}'`;
      out.set(c.key, {
        severity: "error",
        code: "raw.name_conflict",
        message: `a ${shortType(c.typeUrl)} named '${c.name}' is already produced by ${prior}${where}`,
        hint: c.raw === undefined ? `rename ${c.key}, or remove ${prior}` : `rename the raw resource, or remove ${prior}`,
        object: c.key,
        path: c.raw === undefined ? "metadata.name" : c.typeUrl === TypeUrl.Endpoint ? "spec.resource.cluster_name" : "spec.resource.name",
      });
    }
    placed.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
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
          path: `spec.resource${referencePath(r.spec.message, ref.typeUrl, missing[0] ?? "")}`,
        });
      }
      for (const ref of findRawClusterReferences(r.spec.message)) {
        if ((names.get(TypeUrl.Cluster)?.has(ref.cluster) ?? false) || out.has(key)) continue;
        out.set(key, {
          severity: "error",
          code: "raw.dangling_reference",
          message: `the ${shortType(r.spec.typeUrl)} sends to Cluster '${ref.cluster}', which ${g.name === "default" ? "nothing produces" : `node group '${g.name}' does not receive`}`,
          hint: `add a Service named '${ref.cluster}' (or a RawResource Cluster)${g.name === "default" ? "" : " to the same node group"}, or send to one of: ${[...(names.get(TypeUrl.Cluster)?.keys() ?? [])].sort().join(", ") || "(no clusters)"}`,
          object: key,
          path: `spec.resource.${ref.path}`,
        });
      }
    }
    for (const l of g.listeners) {
      const key = `Listener/${l.name}`;
      if (l.service !== undefined && !(names.get(TypeUrl.Cluster)?.has(clusterName(l.service)) ?? false) && !out.has(key)) {
        out.set(key, {
          severity: "error",
          code: "ref.not_in_group",
          message: `Cluster '${l.service}' is a RawResource that node group '${g.name}' does not receive, so this listener there cannot send to it`,
          hint: `list the RawResource in NodeGroup '${g.name}' spec.rawResources, or send to a Service`,
          object: key,
          path: "spec.service",
        });
      }
      for (const vh of l.virtualHosts) {
        vh.rules.forEach((rule, i) => {
          rule.backends.forEach((b, j) => {
            const key = `Route/${vh.name}`;
            if ((names.get(TypeUrl.Cluster)?.has(clusterName(b.service)) ?? false) || out.has(key)) return;
            out.set(key, {
              severity: "error",
              code: "ref.not_in_group",
              message: `Cluster '${b.service}' is a RawResource that node group '${g.name}' does not receive, so Listener '${l.name}' there cannot send to it`,
              hint: `list the RawResource in NodeGroup '${g.name}' spec.rawResources, or send to a Service`,
              object: key,
              path: `spec.routes[${i}].backends[${j}].service`,
            });
          });
        });
      }
    }
  }
  return [...out.values()];
}

/** Where a raw resource names an RDS or EDS resource (`.rds.route_config_name` of its connection manager, `.eds_cluster_config.service_name`), or `""` for the resource itself. */
function referencePath(message: Message, typeUrl: string, name: string): string {
  let found = "";
  walkRawMessage(message, ({ typeName, fields, path }) => {
    if (found !== "") return true;
    const at = (field: string): string => `.${path === "" ? field : `${path}.${field}`}`;
    if (typeUrl === TypeUrl.Route && typeName === HttpConnectionManagerSchema.typeName) {
      const spec = oneofOf(fields, "routeSpecifier");
      if (spec?.case === "rds" && (spec.value as { routeConfigName?: unknown }).routeConfigName === name) found = at("rds.route_config_name");
    }
    if (typeUrl === TypeUrl.Route && typeName === "envoy.config.route.v3.ScopedRouteConfiguration" && fields["routeConfigurationName"] === name) found = at("route_configuration_name");
    if (typeUrl === TypeUrl.Endpoint && typeName === "envoy.config.cluster.v3.Cluster" && path === "") {
      const service = (fields["edsClusterConfig"] as { serviceName?: unknown } | undefined)?.serviceName;
      found = typeof service === "string" && service !== "" ? at("eds_cluster_config.service_name") : at("name");
    }
    return undefined;
  });
  return found;
}
