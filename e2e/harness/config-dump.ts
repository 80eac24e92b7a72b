// Typed views over Envoy's admin /config_dump JSON (envoy.admin.v3.*ConfigDump).
// Only the fields tests look at are typed; the resource itself stays JSON.

export type Json = Record<string, unknown>;

/** One dynamic resource as Envoy reports it: its name, the xDS version it came with, and its proto3 JSON. */
export interface DumpedResource {
  readonly name: string;
  readonly versionInfo: string;
  readonly config: Json;
}

/**
 * A dynamic listener also reports a rejected update (`error_state`), which is
 * how a listener NACK shows; a listener that never got in has only that
 * ("failed", with an empty config and version).
 */
export interface DumpedListener extends DumpedResource {
  readonly state: "active" | "warming" | "draining" | "failed";
  readonly errorState?: Json;
}

export interface ConfigDump {
  readonly configs: readonly Json[];
}

function section(dump: ConfigDump, typeSuffix: string): Json | undefined {
  return dump.configs.find((c) => typeof c["@type"] === "string" && c["@type"].endsWith(typeSuffix));
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function obj(value: unknown): Json {
  return typeof value === "object" && value !== null ? (value as Json) : {};
}

/** Clusters received over CDS that are active (warm). */
export function dynamicClusters(dump: ConfigDump, options: { warming?: boolean } = {}): DumpedResource[] {
  const s = section(dump, ".ClustersConfigDump");
  const entries = list(s?.[options.warming ? "dynamic_warming_clusters" : "dynamic_active_clusters"]);
  return entries.map((e) => ({ name: str(obj(e["cluster"])["name"]), versionInfo: str(e["version_info"]), config: obj(e["cluster"]) }));
}

export function staticClusters(dump: ConfigDump): DumpedResource[] {
  const s = section(dump, ".ClustersConfigDump");
  return list(s?.["static_clusters"]).map((e) => ({ name: str(obj(e["cluster"])["name"]), versionInfo: "", config: obj(e["cluster"]) }));
}

/** Listeners received over LDS, in whichever state holds a config (active first). */
export function dynamicListeners(dump: ConfigDump): DumpedListener[] {
  const s = section(dump, ".ListenersConfigDump");
  const out: DumpedListener[] = [];
  for (const e of list(s?.["dynamic_listeners"])) {
    const errorState = e["error_state"] === undefined ? {} : { errorState: obj(e["error_state"]) };
    const state = (["active", "warming", "draining"] as const).find((s) => e[`${s}_state`] !== undefined);
    if (state !== undefined) {
      const o = obj(e[`${state}_state`]);
      out.push({ name: str(e["name"]), versionInfo: str(o["version_info"]), config: obj(o["listener"]), state, ...errorState });
    } else if (e["error_state"] !== undefined) {
      out.push({ name: str(e["name"]), versionInfo: "", config: {}, state: "failed", ...errorState });
    }
  }
  return out;
}

export function staticListeners(dump: ConfigDump): DumpedResource[] {
  const s = section(dump, ".ListenersConfigDump");
  return list(s?.["static_listeners"]).map((e) => {
    const l = obj(e["listener"]);
    return { name: str(l["name"]), versionInfo: "", config: l };
  });
}

/** Route configurations received over RDS. */
export function dynamicRoutes(dump: ConfigDump): DumpedResource[] {
  const s = section(dump, ".RoutesConfigDump");
  return list(s?.["dynamic_route_configs"]).map((e) => {
    const r = obj(e["route_config"]);
    return { name: str(r["name"]), versionInfo: str(e["version_info"]), config: r };
  });
}

/** Load assignments received over EDS (present only when the dump was taken with `includeEds`). */
export function dynamicEndpoints(dump: ConfigDump): DumpedResource[] {
  const s = section(dump, ".EndpointsConfigDump");
  return list(s?.["dynamic_endpoint_configs"]).map((e) => {
    const c = obj(e["endpoint_config"]);
    return { name: str(c["cluster_name"]), versionInfo: str(e["version_info"]), config: c };
  });
}

/** "host:port" of every endpoint in a dumped ClusterLoadAssignment (EDS or a cluster's inline load_assignment). */
export function endpointAddresses(loadAssignment: Json): string[] {
  const out: string[] = [];
  for (const locality of list(loadAssignment["endpoints"])) {
    for (const lb of list(locality["lb_endpoints"])) {
      const sa = obj(obj(obj(obj(lb["endpoint"])["address"])["socket_address"]));
      out.push(`${str(sa["address"])}:${String(sa["port_value"] ?? "")}`);
    }
  }
  return out;
}
