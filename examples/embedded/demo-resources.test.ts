import assert from "node:assert/strict";
import { test } from "node:test";
import { isMessage } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily, Cluster_LbPolicy, ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { UpstreamTlsContextSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls_pb";
import { createSnapshot, listenerRouteNames, TypeUrl } from "@ts-control-plane/xds";
import { DemoNames, demoResources } from "./demo-resources.ts";

const options = { upstreamHost: "localhost", upstreamPort: 8443, listenerAddress: "127.0.0.1", listenerPort: 12000 };

test("the scenario-1 resources form a consistent snapshot: cluster, route, listener", () => {
  const snapshot = createSnapshot({ version: "1", resources: demoResources(options) });
  assert.deepEqual([...snapshot.resources(TypeUrl.Cluster).keys()], [DemoNames.cluster]);
  assert.deepEqual([...snapshot.resources(TypeUrl.Route).keys()], [DemoNames.route]);
  assert.deepEqual([...snapshot.resources(TypeUrl.Listener).keys()], [DemoNames.listener]);
  assert.equal(snapshot.typeVersion(TypeUrl.Listener), "1");
});

test("the cluster is STRICT_DNS, V4_ONLY, ROUND_ROBIN, 3 s, TLS with SNI, one endpoint", () => {
  const cluster = demoResources(options).find((m) => isMessage(m, ClusterSchema));
  assert.ok(cluster);
  assert.deepEqual(cluster.clusterDiscoveryType, { case: "type", value: Cluster_DiscoveryType.STRICT_DNS });
  assert.equal(cluster.dnsLookupFamily, Cluster_DnsLookupFamily.V4_ONLY);
  assert.equal(cluster.lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
  assert.equal(cluster.connectTimeout?.seconds, 3n);
  const tls = cluster.transportSocket?.configType.case === "typedConfig" ? anyUnpack(cluster.transportSocket.configType.value, UpstreamTlsContextSchema) : undefined;
  assert.equal(tls?.sni, "localhost");
  assert.equal(cluster.loadAssignment?.endpoints[0]?.lbEndpoints.length, 1);
});

test("the route rewrites Host to the upstream; the listener fetches it over ADS or its own stream", () => {
  const route = demoResources(options).find((m) => isMessage(m, RouteConfigurationSchema));
  const action = route?.virtualHosts[0]?.routes[0]?.action;
  assert.ok(action?.case === "route");
  assert.deepEqual(action.value.hostRewriteSpecifier, { case: "hostRewriteLiteral", value: "localhost" });
  assert.deepEqual(action.value.clusterSpecifier, { case: "cluster", value: DemoNames.cluster });

  for (const xdsMode of ["ads", "per-type"] as const) {
    const listener = demoResources({ ...options, xdsMode }).find((m) => isMessage(m, ListenerSchema));
    assert.ok(listener);
    assert.deepEqual(listenerRouteNames(listener), [DemoNames.route]);
    const filter = listener.filterChains[0]?.filters[0];
    const hcm = filter?.configType.case === "typedConfig" ? anyUnpack(filter.configType.value, HttpConnectionManagerSchema) : undefined;
    const source = hcm?.routeSpecifier.case === "rds" ? hcm.routeSpecifier.value.configSource?.configSourceSpecifier.case : undefined;
    assert.equal(source, xdsMode === "ads" ? "ads" : "apiConfigSource");
  }
});
