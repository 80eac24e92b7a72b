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
 * Route may send to a raw Cluster (check-backend.ts): that Cluster must reach the same
 * group. Socket conflicts of raw Listeners are settled with the model's (find-conflicts.ts).
 */
export function checkRawResources(groups: readonly GraphGroup[], options: { readonly allowFilename?: boolean } = {}): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const g of groups) {
    for (const r of g.raw) {
      const key = `RawResource/${r.name}`;
      const problem = out.has(key) ? undefined : checkRawContent(r.name, r.spec, { allowFilename: options.allowFilename === true });
      if (problem !== undefined) out.set(key, problem);
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
