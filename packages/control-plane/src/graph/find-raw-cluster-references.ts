import type { Message } from "@bufbuild/protobuf";
import { oneofOf, walkRawMessage } from "./walk-raw-message.ts";

/** A cluster a raw resource sends traffic to, by name, and where it is written. */
export interface RawClusterReference {
  readonly cluster: string;
  /** Field path from the resource, e.g. `virtual_hosts[0].routes[0].route.cluster`. */
  readonly path: string;
}

const routeAction = "envoy.config.route.v3.RouteAction";
const tcpProxy = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

/**
 * The clusters named by routes (cluster, weighted_clusters, request mirrors) and TCP
 * proxies anywhere in a raw resource. Envoy does not NACK an RDS route to an unknown
 * cluster: it answers 503 "no cluster" later, so the control plane refuses it up front.
 * A cluster taken from a request header (cluster_header) is not known until then.
 */
export function findRawClusterReferences(message: Message): RawClusterReference[] {
  const out: RawClusterReference[] = [];
  walkRawMessage(message, ({ typeName, fields, path }) => {
    if (typeName !== routeAction && typeName !== tcpProxy) return undefined;
    const at = (field: string): string => (path === "" ? field : `${path}.${field}`);
    const specifier = oneofOf(fields, "clusterSpecifier");
    if (specifier?.case === "cluster" && typeof specifier.value === "string" && specifier.value !== "") out.push({ cluster: specifier.value, path: at("cluster") });
    if (specifier?.case === "weightedClusters") {
      const clusters = (specifier.value as { clusters?: readonly { name?: unknown }[] }).clusters ?? [];
      clusters.forEach((c, i) => {
        if (typeof c.name === "string" && c.name !== "") out.push({ cluster: c.name, path: at(`weighted_clusters.clusters[${i}].name`) });
      });
    }
    const mirrors = (fields["requestMirrorPolicies"] ?? []) as readonly { cluster?: unknown }[];
    mirrors.forEach((m, i) => {
      if (typeof m.cluster === "string" && m.cluster !== "") out.push({ cluster: m.cluster, path: at(`request_mirror_policies[${i}].cluster`) });
    });
    return undefined;
  });
  return out;
}
