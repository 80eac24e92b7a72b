import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { SocketAddress_Protocol } from "@ts-control-plane/envoy-api/envoy/config/core/v3/address_pb";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import type { FilterChainSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_components_pb";
import { TlsInspectorSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { TcpProxySchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb";
import { RouteSchema as UdpRouteSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/udp/udp_proxy/v3/route_pb";
import { UdpProxyConfigSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/udp/udp_proxy/v3/udp_proxy_pb";
import type { GraphListener } from "../graph/graph.ts";
import { clusterName, listenerName } from "../graph/resource-names.ts";
import { buildAccessLogs } from "./build-access-logs.ts";
import { buildHttpConnectionManager } from "./build-http-connection-manager.ts";
import { buildTlsFilterChains, needsTlsInspector } from "./build-downstream-tls.ts";
import { socketAddress } from "./socket-address.ts";
import { typedExtension } from "./typed-extension.ts";

/** The Envoy Listener of a Listener object, whatever its protocol. */
export function buildListener(l: GraphListener): Listener {
  const name = listenerName(l.name);
  if (l.protocol === "UDP") {
    // A UDP listener has no filter chains: udp_proxy is a listener filter. Its routing uses
    // the matcher API, since UdpProxyConfig.cluster is deprecated (udp_proxy.proto).
    const udp = create(UdpProxyConfigSchema, {
      statPrefix: name,
      routeSpecifier: {
        case: "matcher",
        value: {
          onNoMatch: {
            onMatch: {
              case: "action",
              value: { name: "route", typedConfig: anyPack(UdpRouteSchema, create(UdpRouteSchema, { cluster: clusterName(l.service ?? "") })) },
            },
          },
        },
      },
      accessLog: buildAccessLogs(l.accessLogs),
    });
    return create(ListenerSchema, {
      name,
      address: socketAddress(l.address, l.port, SocketAddress_Protocol.UDP),
      listenerFilters: [typedExtension("envoy.filters.udp_listener.udp_proxy", UdpProxyConfigSchema, udp)],
    });
  }
  const chain: MessageInitShape<typeof FilterChainSchema>[] = [];
  if (l.protocol === "TCP") {
    const tcp = create(TcpProxySchema, {
      statPrefix: name,
      clusterSpecifier: { case: "cluster", value: clusterName(l.service ?? "") },
      accessLog: buildAccessLogs(l.accessLogs),
    });
    chain.push({ filters: [typedExtension("envoy.filters.network.tcp_proxy", TcpProxySchema, tcp)] });
  } else {
    const hcm = typedExtension("envoy.filters.network.http_connection_manager", HttpConnectionManagerSchema, buildHttpConnectionManager(l));
    if (l.tls === undefined) chain.push({ filters: [hcm] });
    else chain.push(...buildTlsFilterChains(l.tls, [hcm]));
  }
  return create(ListenerSchema, {
    name,
    address: socketAddress(l.address, l.port),
    ...(needsTlsInspector(l.tls) ? { listenerFilters: [typedExtension("envoy.filters.listener.tls_inspector", TlsInspectorSchema, create(TlsInspectorSchema))] } : {}),
    filterChains: chain,
  });
}
