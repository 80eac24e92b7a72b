import type { Json } from "./config-dump.ts";

/**
 * How Envoy talks xDS to us: one aggregated stream ("ads"), or one
 * State-of-the-World stream per resource type ("per-type"). Resources that
 * point Envoy at more xDS (a cluster's EDS config, a listener's RDS config)
 * must use the matching {@link xdsConfigSource}.
 */
export type XdsMode = "ads" | "per-type";

/** The static cluster every bootstrap uses to reach the control plane. */
export const XDS_CLUSTER_NAME = "xds_cluster";

export interface XdsBootstrapOptions {
  /** Port of the xDS server on 127.0.0.1. */
  readonly xdsPort: number;
  readonly mode: XdsMode;
  readonly nodeId: string;
  readonly nodeCluster?: string;
  /** Static resources added beside xds_cluster. */
  readonly staticClusters?: readonly Json[];
  readonly staticListeners?: readonly Json[];
}

/** An envoy.config.core.v3.ApiConfigSource for gRPC SotW to xds_cluster. */
function grpcApiConfigSource(): Json {
  return {
    api_type: "GRPC",
    transport_api_version: "V3",
    grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
    // Without this Envoy sends the whole node on every request; our server must
    // already cope with node only on the first (docs/xds-protocol.md § Stream state).
    set_node_on_first_message_only: true,
  };
}

/** A ConfigSource (proto3 JSON) for LDS/CDS in the bootstrap, or for RDS/EDS inside resources. */
export function xdsConfigSource(mode: XdsMode): Json {
  return mode === "ads"
    ? { ads: {}, resource_api_version: "V3" }
    : { api_config_source: grpcApiConfigSource(), resource_api_version: "V3" };
}

/**
 * An Envoy bootstrap that fetches listeners and clusters from an xDS server on
 * 127.0.0.1:xdsPort, over ADS or per-type SotW streams. xds_cluster speaks
 * HTTP/2 (gRPC needs it) through explicit protocol options, the v3 way.
 */
export function xdsBootstrap(options: XdsBootstrapOptions): Json {
  const xdsCluster: Json = {
    name: XDS_CLUSTER_NAME,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: {
      cluster_name: XDS_CLUSTER_NAME,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: options.xdsPort } } } }] }],
    },
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
  return {
    node: { id: options.nodeId, cluster: options.nodeCluster ?? "e2e" },
    dynamic_resources: {
      ...(options.mode === "ads" ? { ads_config: grpcApiConfigSource() } : {}),
      cds_config: xdsConfigSource(options.mode),
      lds_config: xdsConfigSource(options.mode),
    },
    static_resources: {
      clusters: [xdsCluster, ...(options.staticClusters ?? [])],
      listeners: [...(options.staticListeners ?? [])],
    },
  };
}
