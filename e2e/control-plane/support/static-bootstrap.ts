import type { Json } from "../../harness/config-dump.ts";

const HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

/** One generated xDS resource as proto3 JSON, with its message type ("envoy.config.cluster.v3.Cluster"). */
export interface JsonResource {
  readonly typeName: string;
  readonly json: Json;
}

/**
 * The xDS resources of one node group as a static Envoy bootstrap, for
 * `envoy --mode validate`: Envoy builds every listener, filter, route and
 * cluster (extensions, certificates and regexes included) without binding or
 * connecting anything. What xDS would deliver separately is put in place:
 * - an HCM's `rds` becomes the inline `route_config` of that name;
 * - an EDS cluster becomes STATIC with its ClusterLoadAssignment inline;
 * - an SDS reference (`{ name, sds_config }`) to a generated Secret loses its
 *   `sds_config`, which makes Envoy take the static secret of that name.
 * Inline route configurations are checked against the clusters present
 * (`validate_clusters` defaults to true for them), so a route naming a cluster
 * its node group does not get is rejected too. A resource that cannot be placed
 * (an unknown type, a route or endpoint set nothing refers to, a reference to a
 * missing one) throws: the check must not quietly skip part of the output.
 */
export function staticBootstrap(resources: readonly JsonResource[]): Json {
  const routes = new Map<string, Json>();
  const assignments = new Map<string, Json>();
  const clusters: Json[] = [];
  const listeners: Json[] = [];
  const secrets: Json[] = [];
  for (const r of resources) {
    switch (r.typeName) {
      case "envoy.config.cluster.v3.Cluster":
        clusters.push(r.json);
        break;
      case "envoy.config.listener.v3.Listener":
        listeners.push(r.json);
        break;
      case "envoy.config.route.v3.RouteConfiguration":
        routes.set(String(r.json["name"]), r.json);
        break;
      case "envoy.config.endpoint.v3.ClusterLoadAssignment":
        assignments.set(String(r.json["cluster_name"]), r.json);
        break;
      case "envoy.extensions.transport_sockets.tls.v3.Secret":
        secrets.push(r.json);
        break;
      default:
        throw new Error(`no static place for a ${r.typeName}`);
    }
  }
  const usedRoutes = new Set<string>();
  const usedAssignments = new Set<string>();

  const staticClusters = clusters.map((c) => {
    if (c["type"] !== "EDS") return c;
    const edsConfig = (c["eds_cluster_config"] ?? {}) as Json;
    const serviceName = typeof edsConfig["service_name"] === "string" && edsConfig["service_name"] !== "" ? edsConfig["service_name"] : String(c["name"]);
    const assignment = assignments.get(serviceName);
    if (assignment === undefined) throw new Error(`EDS cluster ${String(c["name"])} has no ClusterLoadAssignment ${serviceName}`);
    usedAssignments.add(serviceName);
    const { eds_cluster_config: _eds, ...rest } = c;
    return { ...rest, type: "STATIC", load_assignment: assignment };
  });

  const inlineRoutes = (hcm: Json): Json => {
    const rds = hcm["rds"] as Json | undefined;
    if (rds === undefined) return hcm;
    const name = String(rds["route_config_name"]);
    const route = routes.get(name);
    if (route === undefined) throw new Error(`HCM ${String(hcm["stat_prefix"])} names RouteConfiguration ${name}, which is not generated`);
    usedRoutes.add(name);
    const { rds: _rds, ...rest } = hcm;
    return { ...rest, route_config: route };
  };
  const inlineChain = (chain: Json): Json => ({
    ...chain,
    filters: ((chain["filters"] ?? []) as Json[]).map((f) => {
      const tc = f["typed_config"] as Json | undefined;
      return tc?.["@type"] === HCM ? { ...f, typed_config: inlineRoutes(tc) } : f;
    }),
  });
  const staticListeners = listeners.map((l) => ({
    ...l,
    ...(l["filter_chains"] === undefined ? {} : { filter_chains: (l["filter_chains"] as Json[]).map(inlineChain) }),
    ...(l["default_filter_chain"] === undefined ? {} : { default_filter_chain: inlineChain(l["default_filter_chain"] as Json) }),
  }));

  const unusedRoutes = [...routes.keys()].filter((n) => !usedRoutes.has(n));
  if (unusedRoutes.length > 0) throw new Error(`RouteConfigurations no listener uses: ${unusedRoutes.join(", ")}`);
  const unusedAssignments = [...assignments.keys()].filter((n) => !usedAssignments.has(n));
  if (unusedAssignments.length > 0) throw new Error(`ClusterLoadAssignments no EDS cluster uses: ${unusedAssignments.join(", ")}`);
  const secretNames = new Set(secrets.map((x) => String(x["name"])));
  const staticSecrets = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(staticSecrets);
    if (value === null || typeof value !== "object") return value;
    const o = value as Json;
    if (o["sds_config"] !== undefined && typeof o["name"] === "string") {
      if (!secretNames.has(o["name"])) throw new Error(`SDS reference to Secret ${o["name"]}, which is not generated`);
      return { name: o["name"] };
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, staticSecrets(v)]));
  };
  return {
    static_resources: {
      listeners: staticSecrets(staticListeners),
      clusters: staticSecrets(staticClusters),
      ...(secrets.length > 0 ? { secrets } : {}),
    },
  } as Json;
}
