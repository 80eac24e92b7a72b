import { type ConfigDump, dynamicClusters, dynamicListeners, dynamicRoutes } from "../../harness/config-dump.ts";

/** The part of a started Envoy that {@link envoyHeldVersions} reads. */
export interface VersionedEnvoy {
  configDump(): Promise<ConfigDump>;
  textStats(filter?: string): Promise<Map<string, string>>;
}

/**
 * What Envoy holds, by resource: the version it was accepted with (EDS from
 * its text stats: config_dump has none). The failover tests compare it before
 * and after a replica dies to prove nothing was resent.
 */
export async function envoyHeldVersions(envoy: VersionedEnvoy): Promise<Record<string, string>> {
  const dump = await envoy.configDump();
  const out: Record<string, string> = {};
  for (const l of dynamicListeners(dump)) out[`listener ${l.name}`] = l.versionInfo;
  for (const r of dynamicRoutes(dump)) out[`route ${r.name}`] = r.versionInfo;
  for (const c of dynamicClusters(dump)) out[`cluster ${c.name}`] = c.versionInfo;
  for (const [name, version] of await envoy.textStats("^cluster\\..*\\.version_text$")) if (name !== "cluster.xds_cluster.version_text") out[name] = version;
  return out;
}
