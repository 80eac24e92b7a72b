// The four resources a proxyless gRPC client needs for `xds:///<target>`:
// Listener (an api_listener, not a socket) → RouteConfiguration → EDS Cluster →
// ClusterLoadAssignment, all over ADS. Shaped after what grpc-js-xds accepts
// (gRFC A27): the HCM must take its routes from RDS over ADS and end with the
// router filter; each endpoint group needs a locality (or the assignment is
// NACKed) and a load_balancing_weight (or gRPC skips the group).
import { create, type Message } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { AggregatedConfigSourceSchema, ConfigSourceSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { RouterSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/router/v3/router_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";

export interface MeshResourceOptions {
  /** The name after `xds:///`; the Listener is named after it. */
  readonly target: string;
  /** Ports on 127.0.0.1 the cluster balances over. */
  readonly backendPorts: readonly number[];
}

/** Stable names derived from the target, so tests can assert on them. */
export function meshNames(target: string): { listener: string; route: string; cluster: string } {
  return { listener: target, route: `${target}-route`, cluster: `${target}-cluster` };
}

const ads = () => create(ConfigSourceSchema, { configSourceSpecifier: { case: "ads", value: create(AggregatedConfigSourceSchema) } });

export function meshResources(options: MeshResourceOptions): Message[] {
  const names = meshNames(options.target);
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: names.listener,
    routeSpecifier: { case: "rds", value: { routeConfigName: names.route, configSource: ads() } },
    httpFilters: [{ name: "envoy.filters.http.router", configType: { case: "typedConfig", value: anyPack(RouterSchema, create(RouterSchema)) } }],
  });
  const listener = create(ListenerSchema, {
    name: names.listener,
    apiListener: { apiListener: anyPack(HttpConnectionManagerSchema, hcm) },
  });
  const route = create(RouteConfigurationSchema, {
    name: names.route,
    virtualHosts: [
      {
        name: options.target,
        domains: ["*"],
        routes: [{ match: { pathSpecifier: { case: "prefix", value: "/" } }, action: { case: "route", value: { clusterSpecifier: { case: "cluster", value: names.cluster } } } }],
      },
    ],
  });
  const cluster = create(ClusterSchema, {
    name: names.cluster,
    connectTimeout: create(DurationSchema, { seconds: 1n }),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads() },
  });
  const assignment = create(ClusterLoadAssignmentSchema, {
    clusterName: names.cluster,
    endpoints: [
      {
        locality: { region: "local", zone: "loopback" },
        loadBalancingWeight: 1,
        lbEndpoints: options.backendPorts.map((port) => ({
          hostIdentifier: {
            case: "endpoint" as const,
            value: { address: { address: { case: "socketAddress" as const, value: { address: "127.0.0.1", portSpecifier: { case: "portValue" as const, value: port } } } } },
          },
        })),
      },
    ],
  });
  return [listener, route, cluster, assignment];
}
