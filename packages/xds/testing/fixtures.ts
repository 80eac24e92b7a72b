// Small, valid Envoy resources for tests of the library.
import { create } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, ClusterSchema, type Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ConfigSourceSchema, AggregatedConfigSourceSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema, type RouteConfiguration } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { RouterSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/router/v3/router_pb";

const ads = () => create(ConfigSourceSchema, { configSourceSpecifier: { case: "ads", value: create(AggregatedConfigSourceSchema) } });

/** A cluster that takes its endpoints from EDS over ADS (`serviceName` names the EDS resource, the cluster's name by default). */
export function edsCluster(name: string, options: { serviceName?: string } = {}): Cluster {
  return create(ClusterSchema, {
    name,
    connectTimeout: create(DurationSchema, { seconds: 1n }),
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads(), serviceName: options.serviceName ?? "" },
  });
}

/** A ClusterLoadAssignment for `clusterName` with one endpoint per port on 127.0.0.1. */
export function endpoints(clusterName: string, ports: readonly number[] = [8080]): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: [
      {
        lbEndpoints: ports.map((port) => ({
          hostIdentifier: {
            case: "endpoint" as const,
            value: { address: { address: { case: "socketAddress" as const, value: { address: "127.0.0.1", portSpecifier: { case: "portValue" as const, value: port } } } } },
          },
        })),
      },
    ],
  });
}

/** A listener on 127.0.0.1:port whose HTTP connection manager fetches route configuration `routeName` over RDS (ADS). */
export function httpListener(name: string, routeName: string, port = 10000): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: name,
    routeSpecifier: { case: "rds", value: { routeConfigName: routeName, configSource: ads() } },
    httpFilters: [{ name: "envoy.filters.http.router", configType: { case: "typedConfig", value: anyPack(RouterSchema, create(RouterSchema)) } }],
  });
  return create(ListenerSchema, {
    name,
    address: { address: { case: "socketAddress", value: { address: "127.0.0.1", portSpecifier: { case: "portValue", value: port } } } },
    filterChains: [
      { filters: [{ name: "envoy.filters.network.http_connection_manager", configType: { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) } }] },
    ],
  });
}

/** A route configuration that sends every request to `clusterName`. */
export function route(name: string, clusterName: string): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [
      {
        name: "all",
        domains: ["*"],
        routes: [{ match: { pathSpecifier: { case: "prefix", value: "/" } }, action: { case: "route", value: { clusterSpecifier: { case: "cluster", value: clusterName } } } }],
      },
    ],
  });
}
