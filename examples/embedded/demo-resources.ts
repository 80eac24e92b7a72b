// The resources of scenario 1 (docs/scenarios.md), built in
// code the way go-control-plane's example builds them: one endpoint, one
// cluster, one route configuration and one listener. Everything that differs
// between a demo run and a test run (ports, hosts, how Envoy fetches RDS) is a
// parameter, so the e2e tests serve exactly what the example serves.
import { create, type Message } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily, Cluster_LbPolicy, ClusterSchema, type Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { type Address, AddressSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/address_pb";
import { ApiConfigSource_ApiType, ApiVersion, ConfigSourceSchema, type ConfigSource } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema, type RouteConfiguration } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { RouterSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/router/v3/router_pb";
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManagerSchema,
} from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { UpstreamTlsContextSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls_pb";

/** Names used by scenario 1. */
export const DemoNames = {
  cluster: "xds_demo_cluster",
  route: "local_route",
  virtualHost: "local_service",
  listener: "listener_xds_demo",
  /** The static cluster in Envoy's bootstrap that points at this control plane. */
  xdsCluster: "xds_cluster",
} as const;

/**
 * How Envoy fetches what a resource points to (here: the listener's route
 * configuration over RDS). It must match the bootstrap: "ads" when Envoy uses
 * one aggregated stream, "per-type" when it opens one gRPC stream per type.
 */
export type XdsMode = "ads" | "per-type";

export interface DemoResourceOptions {
  /** DNS name of the upstream: resolved by Envoy (STRICT_DNS), sent as SNI and as the rewritten Host. */
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  /** Where Envoy listens for the demo traffic. */
  readonly listenerAddress: string;
  readonly listenerPort: number;
  /** "ads" by default. */
  readonly xdsMode?: XdsMode;
}

/** The whole scenario-1 configuration: cluster, route configuration, listener (in CDS, RDS, LDS order). */
export function demoResources(options: DemoResourceOptions): Message[] {
  const xdsMode = options.xdsMode ?? "ads";
  return [
    makeCluster({ name: DemoNames.cluster, upstreamHost: options.upstreamHost, upstreamPort: options.upstreamPort }),
    makeRoute({ name: DemoNames.route, cluster: DemoNames.cluster, hostRewrite: options.upstreamHost }),
    makeHttpListener({
      name: DemoNames.listener,
      address: options.listenerAddress,
      port: options.listenerPort,
      routeConfigName: DemoNames.route,
      xdsMode,
    }),
  ];
}

export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, { address: { case: "socketAddress", value: { address, portSpecifier: { case: "portValue", value: port } } } });
}

/** One locality with the given endpoints, all equally weighted. */
export function makeEndpoint(clusterName: string, endpoints: ReadonlyArray<{ host: string; port: number }>): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: [
      {
        lbEndpoints: endpoints.map((e) => ({
          hostIdentifier: { case: "endpoint" as const, value: { address: socketAddress(e.host, e.port) } },
        })),
      },
    ],
  });
}

/**
 * A STRICT_DNS cluster (Envoy resolves the name itself and keeps re-resolving
 * it), IPv4 only, round robin, with a 3 s connect timeout and TLS to the
 * upstream. The SNI is what lets a virtual-hosted HTTPS server pick its
 * certificate; without it many public servers refuse the handshake.
 */
export function makeCluster(options: { name: string; upstreamHost: string; upstreamPort: number }): Cluster {
  const tls = create(UpstreamTlsContextSchema, { sni: options.upstreamHost });
  return create(ClusterSchema, {
    name: options.name,
    connectTimeout: create(DurationSchema, { seconds: 3n }),
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.STRICT_DNS },
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    dnsLookupFamily: Cluster_DnsLookupFamily.V4_ONLY,
    loadAssignment: makeEndpoint(options.name, [{ host: options.upstreamHost, port: options.upstreamPort }]),
    transportSocket: { name: "envoy.transport_sockets.tls", configType: { case: "typedConfig", value: anyPack(UpstreamTlsContextSchema, tls) } },
  });
}

/** Every path (prefix `/`) to one cluster, with the Host header rewritten to the upstream's name. */
export function makeRoute(options: { name: string; cluster: string; hostRewrite?: string }): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: options.name,
    virtualHosts: [
      {
        name: DemoNames.virtualHost,
        domains: ["*"],
        routes: [
          {
            match: { pathSpecifier: { case: "prefix", value: "/" } },
            action: {
              case: "route",
              value: {
                clusterSpecifier: { case: "cluster", value: options.cluster },
                ...(options.hostRewrite === undefined ? {} : { hostRewriteSpecifier: { case: "hostRewriteLiteral" as const, value: options.hostRewrite } }),
              },
            },
          },
        ],
      },
    ],
  });
}

/** Where Envoy fetches a resource that another resource names (RDS here; EDS likewise). */
export function makeConfigSource(xdsMode: XdsMode): ConfigSource {
  if (xdsMode === "ads") {
    return create(ConfigSourceSchema, { resourceApiVersion: ApiVersion.V3, configSourceSpecifier: { case: "ads", value: {} } });
  }
  return create(ConfigSourceSchema, {
    resourceApiVersion: ApiVersion.V3,
    configSourceSpecifier: {
      case: "apiConfigSource",
      value: {
        apiType: ApiConfigSource_ApiType.GRPC,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [{ targetSpecifier: { case: "envoyGrpc", value: { clusterName: DemoNames.xdsCluster } } }],
        setNodeOnFirstMessageOnly: true,
      },
    },
  });
}

/** A listener whose HTTP connection manager fetches its routes over RDS. */
export function makeHttpListener(options: { name: string; address: string; port: number; routeConfigName: string; xdsMode: XdsMode }): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    codecType: HttpConnectionManager_CodecType.AUTO,
    statPrefix: "http",
    routeSpecifier: { case: "rds", value: { routeConfigName: options.routeConfigName, configSource: makeConfigSource(options.xdsMode) } },
    httpFilters: [{ name: "envoy.filters.http.router", configType: { case: "typedConfig", value: anyPack(RouterSchema, create(RouterSchema)) } }],
  });
  return create(ListenerSchema, {
    name: options.name,
    address: socketAddress(options.address, options.port),
    filterChains: [
      {
        filters: [
          { name: "envoy.filters.network.http_connection_manager", configType: { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) } },
        ],
      },
    ],
  });
}
