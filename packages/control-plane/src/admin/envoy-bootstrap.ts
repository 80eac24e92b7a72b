import { Document } from "yaml";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/**
 * What a node id or cluster in a bootstrap may hold: letters, digits and `._~:@/+=-`
 * (Istio-style ids such as `sidecar~10.0.0.1~web.ns~ns.svc.cluster.local` fit),
 * at most 256 characters. No whitespace or control characters: the value goes into
 * a YAML file and into log lines (issue 14).
 */
export const bootstrapNamePattern = /^[A-Za-z0-9._~:@/+=-]{1,256}$/;

/** Throws a bad_request ApiError naming the parameter when a node id or cluster is not a {@link bootstrapNamePattern}. */
export function checkBootstrapName(value: string, what: string): string {
  if (!bootstrapNamePattern.test(value)) {
    const shown = value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}...` : JSON.stringify(value);
    throw new ApiError(ApiErrorCode.BadRequest, `${what} must be 1-256 characters of A-Z a-z 0-9 . _ ~ : @ / + = -, not ${shown} (${value.length} characters)`);
  }
  return value;
}

/** One control-plane replica Envoy may reach: an IP address (v4 or v6) or a DNS name, and a port. */
export interface XdsAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * How fast Envoy gets its xDS stream back after losing it. Envoy's own defaults
 * (no retry policy: backoff from 500 ms up to 30 s) and our 1 s connect timeout
 * apply to a single address; {@link failoverReconnect} to several.
 */
export interface XdsReconnect {
  /** First backoff bound (Envoy waits a random time below it, doubling per failure): envoy_grpc.retry_policy.retry_back_off.base_interval. */
  readonly retryBaseMs?: number;
  /** Largest backoff bound: retry_back_off.max_interval (10x the base when only the base is given, as Envoy does). */
  readonly retryMaxMs?: number;
  /** xds_cluster's connect_timeout: how long a replica that does not answer SYNs costs each attempt. */
  readonly connectTimeoutMs?: number;
}

/**
 * With several replicas a reconnect should find the next one at once: a
 * crashed replica refuses the connection immediately (round robin then picks
 * another), so short backoff bounds cost little, while the cap keeps a whole
 * outage from turning into a reconnect storm. The connect timeout bounds a
 * replica whose host vanished (no RST), half of today's single-address 1 s.
 */
export const failoverReconnect = { retryBaseMs: 100, retryMaxMs: 5000, connectTimeoutMs: 500 } as const satisfies XdsReconnect;

export interface BootstrapOptions {
  readonly nodeId: string;
  readonly nodeCluster?: string;
  /** Where Envoy reaches our xDS server (used when `xdsAddresses` is absent or empty). */
  readonly xdsHost: string;
  readonly xdsPort: number;
  /**
   * Every control-plane replica: all become endpoints of xds_cluster, and
   * Envoy's stream reconnects to another when the one it uses goes away. The
   * replicas must serve the same content (same `--config` files or the same
   * shared store), so their versions (content hashes) match.
   */
  readonly xdsAddresses?: readonly XdsAddress[];
  /** Backoff and connect timeout; see {@link XdsReconnect} for the defaults. */
  readonly reconnect?: XdsReconnect;
  /** Envoy's own admin port on 127.0.0.1; 9901 by default. */
  readonly adminPort?: number;
  /** Incremental xDS (DELTA_GRPC) instead of State of the World. */
  readonly delta?: boolean;
  /**
   * The control plane's MetricsService port (`serve --metrics-sink-port`), on the xDS host: Envoy
   * then pushes its stats there every 5 s, which a rollout judges the canary's traffic by.
   */
  readonly metricsSinkPort?: number;
}

/** Envoy's xDS reconnect backoff base without a retry policy (GrpcService.EnvoyGrpc.retry_policy). */
const envoyRetryBaseMs = 500;

const isIpLiteral = (host: string): boolean => /^[0-9.]+$/.test(host) || host.includes(":");

/** A Duration in proto3 JSON ("0.100s"). */
const jsonDuration = (ms: number): string => `${(ms / 1000).toFixed(3)}s`;

/**
 * An Envoy bootstrap for this control plane: ADS over gRPC (SotW, or Delta) to the xDS address(es),
 * listeners and clusters from ADS, a static xds_cluster speaking HTTP/2 (gRPC
 * needs it), and Envoy's admin on loopback only.
 *
 * Several addresses are endpoints of one xds_cluster (not several
 * `grpc_services`: Envoy takes a second one only as a primary/failover pair
 * behind a restart-time runtime flag). Names are resolved STRICT_DNS: every
 * address a name has becomes an endpoint, so one name listing all replicas
 * (a headless Service) works like listing them one by one; LOGICAL_DNS would
 * keep only the first address, pinning Envoy to one replica until the next
 * resolution even when that replica is the one that died.
 */
export function envoyBootstrap(options: BootstrapOptions): Record<string, unknown> {
  const addresses = options.xdsAddresses !== undefined && options.xdsAddresses.length > 0 ? options.xdsAddresses : [{ host: options.xdsHost, port: options.xdsPort }];
  const several = addresses.length > 1;
  // One address: exactly the bootstrap of before (no retry policy, 1 s); several: failover bounds unless given.
  const given = options.reconnect ?? {};
  const defaultBaseMs = several ? failoverReconnect.retryBaseMs : envoyRetryBaseMs;
  const retryBaseMs = given.retryBaseMs ?? (several || given.retryMaxMs !== undefined ? Math.min(defaultBaseMs, given.retryMaxMs ?? Infinity) : undefined);
  const retryMaxMs = given.retryMaxMs ?? (several && given.retryBaseMs === undefined ? failoverReconnect.retryMaxMs : undefined);
  const connectTimeoutMs = given.connectTimeoutMs ?? (several ? failoverReconnect.connectTimeoutMs : 1000);
  const retryPolicy =
    retryBaseMs === undefined
      ? {}
      : { retry_policy: { retry_back_off: { base_interval: jsonDuration(retryBaseMs), ...(retryMaxMs === undefined ? {} : { max_interval: jsonDuration(retryMaxMs) }) } } };
  const ads = { ads: {}, resource_api_version: "V3" };
  // One cluster per control-plane service: every address is an endpoint of it, so Envoy fails over between replicas.
  const grpcCluster = (name: string, endpoints: readonly { host: string; port: number }[]) => ({
    name,
    // A host name must be resolved; IP addresses are used as they are.
    type: endpoints.every((a) => isIpLiteral(a.host)) ? "STATIC" : "STRICT_DNS",
    connect_timeout: connectTimeoutMs === 1000 ? "1s" : jsonDuration(connectTimeoutMs),
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: endpoints.map((a) => ({ endpoint: { address: { socket_address: { address: a.host, port_value: a.port } } } })) }],
    },
  });
  const sink = options.metricsSinkPort;
  return {
    node: { id: options.nodeId, cluster: options.nodeCluster ?? options.nodeId },
    dynamic_resources: {
      ads_config: {
        api_type: options.delta === true ? "DELTA_GRPC" : "GRPC",
        transport_api_version: "V3",
        grpc_services: [{ envoy_grpc: { cluster_name: "xds_cluster", ...retryPolicy } }],
        set_node_on_first_message_only: true,
      },
      cds_config: ads,
      lds_config: ads,
    },
    static_resources: {
      // The metrics sink runs beside every replica's xDS server, on its own port.
      clusters: [grpcCluster("xds_cluster", addresses), ...(sink === undefined ? [] : [grpcCluster("metrics_sink", addresses.map((a) => ({ host: a.host, port: sink })))])],
    },
    ...(sink === undefined
      ? {}
      : {
          stats_sinks: [
            {
              name: "envoy.stat_sinks.metrics_service",
              typed_config: {
                "@type": "type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig",
                transport_api_version: "V3",
                grpc_service: { envoy_grpc: { cluster_name: "metrics_sink" } },
              },
            },
          ],
        }),
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: options.adminPort ?? 9901 } } },
  };
}

/**
 * The bootstrap as YAML, written by the YAML library's serializer (never by
 * concatenation): a value can only ever be a value. The node id and cluster are
 * checked first, as they are also written into the leading comment.
 */
export function envoyBootstrapYaml(options: BootstrapOptions): string {
  checkBootstrapName(options.nodeId, "node");
  if (options.nodeCluster !== undefined) checkBootstrapName(options.nodeCluster, "cluster");
  const doc = new Document(envoyBootstrap(options), { aliasDuplicateObjects: false });
  doc.commentBefore = ` Envoy bootstrap for node ${options.nodeId}, generated by the control plane.`;
  return doc.toString();
}
