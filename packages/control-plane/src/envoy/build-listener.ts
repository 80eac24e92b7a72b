import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { SocketAddress_Protocol } from "@ts-control-plane/envoy-api/envoy/config/core/v3/address_pb";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import type { FilterChainSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_components_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { TcpProxySchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb";
import { RouteSchema as UdpRouteSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/udp/udp_proxy/v3/route_pb";
import { UdpProxyConfigSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/udp/udp_proxy/v3/udp_proxy_pb";
import { DownstreamTlsContextSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls_pb";
import type { GraphListener } from "../graph/graph.ts";
import { clusterName, listenerName } from "../graph/resource-names.ts";
import { buildAccessLogs } from "./build-access-logs.ts";
import { buildHttpConnectionManager } from "./build-http-connection-manager.ts";
import { sdsSecretConfig } from "./sds-secret-config.ts";
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
    else {
      const tls = create(DownstreamTlsContextSchema, {
        ...(l.tls.clientValidationSecret === undefined ? {} : { requireClientCertificate: true }),
        commonTlsContext: {
          // Offer HTTP/2 as well: the connection manager's codec is AUTO, but without ALPN
          // a TLS client never learns that h2 is available and stays on HTTP/1.1.
          alpnProtocols: ["h2", "http/1.1"],
          ...("secret" in l.tls
            ? // Over SDS (a Secret object): the listener holds only the name, so rotating the
              // certificate changes the Secret alone and Envoy keeps the listener (no drain).
              { tlsCertificateSdsSecretConfigs: [sdsSecretConfig(l.tls.secret)] }
            : {
                // Inline stays inline: Envoy checks inline certificates when it loads the listener
                // and NACKs a bad one, whereas an SDS failure is not a NACK, the listener just never
                // warms (docs/xds-protocol.md § Stream state). The cost: a change replaces the listener.
                tlsCertificates: [
                  {
                    certificateChain: { specifier: { case: "inlineString", value: l.tls.certificate } },
                    privateKey: { specifier: { case: "inlineString", value: l.tls.key } },
                  },
                ],
              }),
          ...(l.tls.clientValidationSecret === undefined
            ? {}
            : { validationContextType: { case: "validationContextSdsSecretConfig", value: sdsSecretConfig(l.tls.clientValidationSecret) } }),
        },
      });
      chain.push({ filters: [hcm], transportSocket: typedExtension("envoy.transport_sockets.tls", DownstreamTlsContextSchema, tls) });
    }
  }
  return create(ListenerSchema, { name, address: socketAddress(l.address, l.port), filterChains: chain });
}
