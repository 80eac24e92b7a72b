import type { DescMessage, Message } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { ScopedRouteConfigurationSchema, type ScopedRouteConfiguration } from "@ts-control-plane/envoy-api/envoy/config/route/v3/scoped_route_pb";
import { VirtualHostSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_components_pb";
import { SecretSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/secret_pb";
import { RuntimeSchema } from "@ts-control-plane/envoy-api/envoy/service/runtime/v3/rtds_pb";
import { TypedExtensionConfigSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/extension_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { TypeUrl } from "./type-urls.ts";

/** A reference from one resource to resources of another type, by name. */
export interface ResourceReference {
  /** The type URL of the referenced resources. */
  readonly typeUrl: string;
  /** The referenced names. */
  readonly names: readonly string[];
}

/** What the library knows about one xDS resource type. */
export interface ResourceType {
  /** The type URL, e.g. {@link TypeUrl.Cluster}. */
  readonly typeUrl: string;
  /** The discovery service's short name, for logs and status ("CDS"). */
  readonly shortName: string;
  /** The protobuf-es schema of the resource message. */
  readonly schema: DescMessage;
  /**
   * Listeners and clusters (and scoped routes) are "full state" types: a SotW
   * response carries every resource, and a resource absent from it is deleted
   * by Envoy. They also accept the legacy wildcard (an empty first request).
   */
  readonly fullState: boolean;
  /** Push order on ADS, lowest first: CDS, EDS, LDS, RDS, then the rest (make before break). */
  readonly order: number;
  /** The resource name of a message of this type. */
  readonly nameOf: (message: Message) => string;
  /** The resources of other types a message of this type names (a cluster's EDS name, a listener's route configurations). */
  readonly references: (message: Message) => ResourceReference[];
}

const byName = (m: Message): string => (m as unknown as { name: string }).name;
const none = (): ResourceReference[] => [];

/**
 * The ClusterLoadAssignment name an EDS cluster fetches, or undefined for a
 * cluster of another discovery type. Apart from {@link clusterReferences} so
 * that a snapshot's consistency check, which asks it of every cluster, builds
 * no reference objects (three per cluster: a visible share of setting 10,000
 * clusters, issue 15 item 5).
 */
export function clusterEdsName(m: Message): string | undefined {
  const c = m as Cluster;
  const isEds = c.clusterDiscoveryType.case === "type" && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
  // The EDS name is service_name when set, else the cluster name (Envoy's rule).
  return isEds ? c.edsClusterConfig?.serviceName || c.name : undefined;
}

function clusterReferences(m: Message): ResourceReference[] {
  const name = clusterEdsName(m);
  return name === undefined ? [] : [{ typeUrl: TypeUrl.Endpoint, names: [name] }];
}

/** Route configuration names a listener's HTTP connection managers fetch over RDS. */
export function listenerRouteNames(listener: Listener): string[] {
  const names = new Set<string>();
  const chains = [...listener.filterChains, ...(listener.defaultFilterChain ? [listener.defaultFilterChain] : [])];
  for (const chain of chains) {
    for (const filter of chain.filters) {
      if (filter.configType.case !== "typedConfig") continue;
      const any = filter.configType.value;
      if (!any.typeUrl.endsWith("/" + HttpConnectionManagerSchema.typeName)) continue;
      const hcm = anyUnpack(any, HttpConnectionManagerSchema);
      if (hcm?.routeSpecifier.case === "rds" && hcm.routeSpecifier.value.routeConfigName) {
        names.add(hcm.routeSpecifier.value.routeConfigName);
      }
    }
  }
  return [...names].sort();
}

function listenerReferences(m: Message): ResourceReference[] {
  const names = listenerRouteNames(m as Listener);
  return names.length > 0 ? [{ typeUrl: TypeUrl.Route, names }] : [];
}

function scopedRouteReferences(m: Message): ResourceReference[] {
  const s = m as ScopedRouteConfiguration;
  return s.routeConfigurationName ? [{ typeUrl: TypeUrl.Route, names: [s.routeConfigurationName] }] : [];
}

const list: ResourceType[] = [
  { typeUrl: TypeUrl.Cluster, shortName: "CDS", schema: ClusterSchema, fullState: true, order: 0, nameOf: byName, references: clusterReferences },
  {
    typeUrl: TypeUrl.Endpoint,
    shortName: "EDS",
    schema: ClusterLoadAssignmentSchema,
    fullState: false,
    order: 1,
    nameOf: (m) => (m as unknown as { clusterName: string }).clusterName,
    references: none,
  },
  { typeUrl: TypeUrl.Listener, shortName: "LDS", schema: ListenerSchema, fullState: true, order: 2, nameOf: byName, references: listenerReferences },
  { typeUrl: TypeUrl.Route, shortName: "RDS", schema: RouteConfigurationSchema, fullState: false, order: 3, nameOf: byName, references: none },
  {
    typeUrl: TypeUrl.ScopedRoute,
    shortName: "SRDS",
    schema: ScopedRouteConfigurationSchema,
    fullState: true,
    order: 4,
    nameOf: byName,
    references: scopedRouteReferences,
  },
  { typeUrl: TypeUrl.VirtualHost, shortName: "VHDS", schema: VirtualHostSchema, fullState: false, order: 5, nameOf: byName, references: none },
  { typeUrl: TypeUrl.Secret, shortName: "SDS", schema: SecretSchema, fullState: false, order: 6, nameOf: byName, references: none },
  { typeUrl: TypeUrl.Runtime, shortName: "RTDS", schema: RuntimeSchema, fullState: false, order: 7, nameOf: byName, references: none },
  {
    typeUrl: TypeUrl.ExtensionConfig,
    shortName: "ECDS",
    schema: TypedExtensionConfigSchema,
    fullState: false,
    order: 8,
    nameOf: byName,
    references: none,
  },
];

const table = new Map(list.map((t) => [t.typeUrl, t]));
// By message name too: a snapshot resolves each message's `$typeName` without
// building its type URL first (a new string per resource, hashed on every
// lookup: a visible share of a 20,000-resource snapshot, issue 15).
const byTypeName = new Map(list.map((t) => [t.schema.typeName, t]));

/** Every resource type the library serves, in ADS push order. */
export const resourceTypes: readonly ResourceType[] = list;

/** What the library knows about a type URL; undefined for a type it does not serve. */
export function resourceType(typeUrl: string): ResourceType | undefined {
  return table.get(typeUrl);
}

/** What the library knows about a message type, by its full name (a message's `$typeName`); undefined for a type it does not serve. */
export function resourceTypeByName(typeName: string): ResourceType | undefined {
  return byTypeName.get(typeName);
}

/** Whether messages of a type can reference other resources at all: a check over all references skips the types that cannot (EDS, RDS, ...) instead of asking each message. */
export function mayReference(type: ResourceType): boolean {
  return type.references !== none;
}

/** Sort key for ADS push order; unknown types go last. */
export function pushOrder(typeUrl: string): number {
  return table.get(typeUrl)?.order ?? 100;
}
