// Scenario 2's configuration (docs/scenarios.md): listener_0 → route → example_proxy_cluster
// → service1 / service2, built from the example's building blocks. The cluster
// either takes its endpoints over EDS or carries them inline (STATIC), so tests
// can move traffic with an EDS change or with a CDS change.
import { create, type Message } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema, type Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import type { RouteConfiguration } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { makeConfigSource, makeEndpoint, makeHttpListener, makeRoute } from "../../examples/embedded/demo-resources.ts";
import type { XdsMode } from "../harness/xds-bootstrap.ts";

export const ProxyNames = { listener: "listener_0", route: "local_route", cluster: "example_proxy_cluster" } as const;

export interface ProxyResourceOptions {
  readonly mode: XdsMode;
  readonly listenerPort: number;
  /** Ports on 127.0.0.1 the cluster balances over (round robin). */
  readonly endpoints: readonly number[];
  /** "eds" (endpoints in a ClusterLoadAssignment of their own) or "static" (inline in the cluster). */
  readonly clusterKind?: "eds" | "static";
  /** Replaces the route configuration (e.g. with one Envoy rejects). */
  readonly route?: RouteConfiguration;
  /** Extra resources, e.g. a ClusterLoadAssignment no cluster uses right now. */
  readonly extra?: readonly Message[];
}

/** A round-robin cluster that takes its endpoints over EDS (from the ClusterLoadAssignment named like the cluster). */
export function makeEdsCluster(name: string, mode: XdsMode): Cluster {
  return create(ClusterSchema, {
    name,
    connectTimeout: create(DurationSchema, { seconds: 1n }),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: makeConfigSource(mode) },
  });
}

export function proxyResources(options: ProxyResourceOptions): Message[] {
  const cla = makeEndpoint(
    ProxyNames.cluster,
    options.endpoints.map((port) => ({ host: "127.0.0.1", port })),
  );
  const kind = options.clusterKind ?? "eds";
  const cluster =
    kind === "eds"
      ? makeEdsCluster(ProxyNames.cluster, options.mode)
      : create(ClusterSchema, {
          name: ProxyNames.cluster,
          connectTimeout: create(DurationSchema, { seconds: 1n }),
          lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
          clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.STATIC },
          loadAssignment: cla,
        });
  return [
    cluster,
    ...(kind === "eds" ? [cla] : []),
    options.route ?? makeRoute({ name: ProxyNames.route, cluster: ProxyNames.cluster }),
    makeHttpListener({ name: ProxyNames.listener, address: "127.0.0.1", port: options.listenerPort, routeConfigName: ProxyNames.route, xdsMode: options.mode }),
    ...(options.extra ?? []),
  ];
}
