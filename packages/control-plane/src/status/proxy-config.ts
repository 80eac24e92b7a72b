import { create, fromBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ClientResourceStatus } from "@ts-control-plane/envoy-api/envoy/admin/v3/config_dump_shared_pb";
import { ClientStatusRequestSchema, ConfigStatus } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { NodeMatcherSchema } from "@ts-control-plane/envoy-api/envoy/type/matcher/v3/node_pb";
import { buildCsdsResponse, type CsdsSources, envoyRegistry, type NodeStatus, resourceType, TypeUrl } from "@ts-control-plane/xds";
import { redactSecrets } from "../log/redact-secrets.ts";
import { nackedResourceNames } from "./nack-resources.ts";

/** The resource types `proxy-config` filters on, as istioctl names them, with their xDS type URLs. */
export const proxyConfigTypes: ReadonlyMap<string, string> = new Map([
  ["clusters", TypeUrl.Cluster],
  ["listeners", TypeUrl.Listener],
  ["routes", TypeUrl.Route],
  ["endpoints", TypeUrl.Endpoint],
  ["secrets", TypeUrl.Secret],
]);

/**
 * Per resource: ACKED (the proxy runs it), NACKED (Envoy's message names it,
 * or names nothing we sent), SENT (sent, not acknowledged yet), REQUESTED
 * (asked for, not sent yet), DOES_NOT_EXIST (asked for by name, we have none).
 */
export type ResourceState = "ACKED" | "NACKED" | "SENT" | "REQUESTED" | "DOES_NOT_EXIST";

export interface ProxyResource {
  /** The short type name (clusters, listeners, ...), or the type URL for others. */
  readonly type: string;
  readonly typeUrl: string;
  readonly name: string;
  /** version_info of the response that last changed it for this proxy, as Envoy's /config_dump shows it. */
  readonly version: string;
  readonly state: ResourceState;
  /** When the latest response of its type was sent. */
  readonly lastUpdated?: string;
  /** Envoy's message, for a NACKED resource. */
  readonly nack?: { readonly version: string; readonly message: string };
  /** The objects that produced it. */
  readonly objects?: readonly string[];
  /** The resource as Envoy's proto3 JSON, secrets redacted (only when asked for). */
  readonly config?: JsonValue;
}

export interface ProxyConfig {
  readonly nodeId: string;
  readonly cluster: string;
  /** The cache key (node group) its resources are read from. */
  readonly group: string;
  readonly connected: boolean;
  readonly resources: readonly ProxyResource[];
}

export interface ProxyConfigOptions {
  /** Only these type URLs; every type when absent. */
  readonly typeUrls?: ReadonlySet<string>;
  /** Include each resource's body (redacted). */
  readonly withContents: boolean;
  /** typeUrl -> resource name -> objectKeys, for the proxy's group. */
  readonly resourceObjects?: (group: string) => ReadonlyMap<string, ReadonlyMap<string, readonly string[]>> | undefined;
}

/**
 * What the xDS server sent one proxy, read from CSDS's own answer
 * (buildCsdsResponse over the server's status record, resource versions and
 * the node's snapshot at its cache key), so this view and a CSDS client never
 * disagree. Refined in one way: CSDS marks every resource of a NACKed type
 * NACKED, while Envoy applies the listeners and clusters of an update it
 * rejects in part; a resource Envoy's message does not name is ACKED here.
 * Undefined for a node the server does not know.
 */
export function buildProxyConfig(nodeId: string, sources: CsdsSources, options: ProxyConfigOptions): ProxyConfig | undefined {
  const status: NodeStatus | undefined = sources.status.node(nodeId);
  if (status === undefined) return undefined;
  const request = create(ClientStatusRequestSchema, {
    nodeMatchers: [create(NodeMatcherSchema, { nodeId: { matchPattern: { case: "exact", value: nodeId } } })],
    excludeResourceContents: !options.withContents,
  });
  const config = buildCsdsResponse(request, sources).config.find((c) => c.node?.id === nodeId);
  const objects = options.resourceObjects?.(status.cacheKey);
  const byType = new Map(status.types.map((t) => [t.typeUrl, t]));
  const resources: ProxyResource[] = [];
  for (const g of config?.genericXdsConfigs ?? []) {
    if (options.typeUrls !== undefined && !options.typeUrls.has(g.typeUrl)) continue;
    const type = byType.get(g.typeUrl);
    const nack = type?.nacked === true ? type.lastNack : undefined;
    let state = stateOf(g.clientStatus, g.configStatus);
    if (state === "NACKED" && nack !== undefined) {
      const named = nackedResourceNames(nack.message, objects?.get(g.typeUrl)?.keys() ?? []);
      if (named.length > 0 && !named.includes(g.name)) state = "ACKED";
    }
    const owners = objects?.get(g.typeUrl)?.get(g.name);
    const body = g.xdsConfig === undefined ? undefined : decode(g.xdsConfig.typeUrl, g.xdsConfig.value);
    resources.push({
      type: shortType(g.typeUrl),
      typeUrl: g.typeUrl,
      name: g.name,
      version: g.versionInfo,
      state,
      ...(g.lastUpdated !== undefined ? { lastUpdated: timestampDate(g.lastUpdated).toISOString() } : {}),
      ...(state === "NACKED" && nack !== undefined ? { nack: { version: nack.version, message: nack.message } } : {}),
      ...(owners !== undefined ? { objects: owners } : {}),
      ...(body !== undefined ? { config: redactSecrets(body) } : {}),
    });
  }
  const rank = (url: string) => {
    const i = [...proxyConfigTypes.values()].indexOf(url);
    return i < 0 ? proxyConfigTypes.size : i;
  };
  resources.sort((a, b) => rank(a.typeUrl) - rank(b.typeUrl) || (a.typeUrl < b.typeUrl ? -1 : a.typeUrl > b.typeUrl ? 1 : a.name < b.name ? -1 : 1));
  return { nodeId, cluster: status.nodeCluster, group: status.cacheKey, connected: status.streams > 0, resources };
}

function stateOf(s: ClientResourceStatus, config: ConfigStatus): ResourceState {
  switch (s) {
    case ClientResourceStatus.ACKED:
      return "ACKED";
    case ClientResourceStatus.NACKED:
      return "NACKED";
    case ClientResourceStatus.DOES_NOT_EXIST:
      return "DOES_NOT_EXIST";
    default:
      // CSDS says REQUESTED for both; STALE means a response went out and is not acknowledged yet.
      return config === ConfigStatus.STALE ? "SENT" : "REQUESTED";
  }
}

function shortType(typeUrl: string): string {
  for (const [name, url] of proxyConfigTypes) if (url === typeUrl) return name;
  return typeUrl;
}

function decode(typeUrl: string, bytes: Uint8Array): JsonValue | undefined {
  const type = resourceType(typeUrl);
  if (type === undefined) return undefined;
  return toJson(type.schema, fromBinary(type.schema, bytes), { registry: envoyRegistry(), useProtoFieldName: true });
}
