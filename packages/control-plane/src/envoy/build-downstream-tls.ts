import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { FilterChainSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_components_pb";
import { TlsParameters_TlsProtocol } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/common_pb";
import { DownstreamTlsContextSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls_pb";
import type { ListenerTls, ServedCertificate, TlsVersion } from "../model/listener-tls-spec.ts";
import { sdsSecretConfig } from "./sds-secret-config.ts";
import { typedExtension } from "./typed-extension.ts";

const protocols: Record<TlsVersion, TlsParameters_TlsProtocol> = { TLSv1_2: TlsParameters_TlsProtocol.TLSv1_2, TLSv1_3: TlsParameters_TlsProtocol.TLSv1_3 };

/**
 * One filter chain per served certificate, all with the same filters (so the same route
 * table: virtual hosts still pick by Host). A certificate with serverNames gets a chain
 * matched on SNI; the one without is the chain for every other name. Chains are sorted by
 * their first server name, the default last, so the output does not follow YAML order.
 */
export function buildTlsFilterChains(tls: ListenerTls, filters: ReturnType<typeof typedExtension>[]): MessageInitShape<typeof FilterChainSchema>[] {
  const sorted = [...tls.certificates].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  return sorted.map((c) => ({
    ...(c.serverNames.length === 0 ? {} : { filterChainMatch: { serverNames: c.serverNames } }),
    filters,
    transportSocket: typedExtension("envoy.transport_sockets.tls", DownstreamTlsContextSchema, downstreamTlsContext(tls, c)),
  }));
}

/** SNI is only known to the filter chain match once the TLS inspector has read the ClientHello. */
export const needsTlsInspector = (tls: ListenerTls | undefined): boolean => tls?.certificates.some((c) => c.serverNames.length > 0) ?? false;

const sortKey = (c: ServedCertificate): string => c.serverNames[0] ?? "\u{10FFFF}";

function downstreamTlsContext(tls: ListenerTls, c: ServedCertificate) {
  const ca = tls.clientValidationSecret;
  return create(DownstreamTlsContextSchema, {
    // clientCertificate: optional still verifies a certificate that is presented, it only
    // lets clients without one in (DownstreamTlsContext.require_client_certificate).
    ...(ca === undefined || tls.clientCertificate === "optional" ? {} : { requireClientCertificate: true }),
    commonTlsContext: {
      ...(tls.minVersion === undefined ? {} : { tlsParams: { tlsMinimumProtocolVersion: protocols[tls.minVersion] } }),
      // Offer HTTP/2 as well by default: the connection manager's codec is AUTO, but without
      // ALPN a TLS client never learns that h2 is available and stays on HTTP/1.1.
      alpnProtocols: tls.alpn,
      ...("secret" in c
        ? // Over SDS (a Secret object): the listener holds only the name, so rotating the
          // certificate changes the Secret alone and Envoy keeps the listener (no drain).
          { tlsCertificateSdsSecretConfigs: [sdsSecretConfig(c.secret)] }
        : {
            // Inline stays inline: Envoy checks inline certificates when it loads the listener
            // and NACKs a bad one, whereas an SDS failure is not a NACK, the listener just never
            // warms (docs/xds-protocol.md § Stream state). The cost: a change replaces the listener.
            tlsCertificates: [
              {
                certificateChain: { specifier: { case: "inlineString", value: c.certificate } },
                privateKey: { specifier: { case: "inlineString", value: c.key } },
              },
            ],
          }),
      ...(ca === undefined ? {} : { validationContextType: { case: "validationContextSdsSecretConfig", value: sdsSecretConfig(ca) } }),
    },
  });
}
