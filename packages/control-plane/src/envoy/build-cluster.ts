import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  Cluster_DiscoveryType,
  Cluster_DnsLookupFamily,
  Cluster_LbPolicy,
  ClusterSchema,
  type Cluster,
} from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { RoutingPriority } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { SubjectAltNameMatcher_SanType } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/common_pb";
import { UpstreamTlsContextSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls_pb";
import { HttpProtocolOptionsSchema } from "@ts-control-plane/envoy-api/envoy/extensions/upstreams/http/v3/http_protocol_options_pb";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { GraphService } from "../graph/graph.ts";
import { clusterName } from "../graph/resource-names.ts";
import type { ServiceSpec } from "../model/service-spec.ts";
import type { SubjectAltName } from "../model/subject-alt-name-spec.ts";
import { adsConfigSource } from "./ads-config-source.ts";
import { buildLoadAssignment } from "./build-load-assignment.ts";
import { durationFromMs } from "./durations.ts";
import { sdsSecretConfig } from "./sds-secret-config.ts";
import { typedExtension } from "./typed-extension.ts";

const lbPolicy: Record<ServiceSpec["lbPolicy"], Cluster_LbPolicy> = {
  RoundRobin: Cluster_LbPolicy.ROUND_ROBIN,
  LeastRequest: Cluster_LbPolicy.LEAST_REQUEST,
  RingHash: Cluster_LbPolicy.RING_HASH,
  Random: Cluster_LbPolicy.RANDOM,
  Maglev: Cluster_LbPolicy.MAGLEV,
};

const dnsFamily: Record<NonNullable<ServiceSpec["dnsLookupFamily"]>, Cluster_DnsLookupFamily> = {
  Auto: Cluster_DnsLookupFamily.AUTO,
  V4Only: Cluster_DnsLookupFamily.V4_ONLY,
  V6Only: Cluster_DnsLookupFamily.V6_ONLY,
  V4Preferred: Cluster_DnsLookupFamily.V4_PREFERRED,
  All: Cluster_DnsLookupFamily.ALL,
};

/**
 * The Cluster of a Service. Static services are EDS clusters fed over ADS, so an endpoint
 * change only touches their ClusterLoadAssignment and never re-warms the cluster; DNS
 * services are STRICT_DNS clusters with the hostnames inline (Envoy resolves them).
 */
export function buildCluster(service: GraphService): Cluster {
  const s = service.spec;
  const name = clusterName(service.name);
  const init: MessageInitShape<typeof ClusterSchema> = {
    name,
    connectTimeout: durationFromMs(s.connectTimeoutMs),
    lbPolicy: lbPolicy[s.lbPolicy],
  };
  if (s.discovery === "Static") {
    init.clusterDiscoveryType = { case: "type", value: Cluster_DiscoveryType.EDS };
    init.edsClusterConfig = { edsConfig: adsConfigSource() };
  } else {
    init.clusterDiscoveryType = { case: "type", value: Cluster_DiscoveryType.STRICT_DNS };
    init.loadAssignment = buildLoadAssignment(name, s.endpoints);
    if (s.dnsLookupFamily !== undefined) init.dnsLookupFamily = dnsFamily[s.dnsLookupFamily];
  }
  if (s.protocol === "HTTP2") {
    // The v3 way to speak HTTP/2 upstream (http2_protocol_options on the cluster is deprecated).
    const options = create(HttpProtocolOptionsSchema, {
      upstreamProtocolOptions: { case: "explicitHttpConfig", value: { protocolConfig: { case: "http2ProtocolOptions", value: {} } } },
    });
    init.typedExtensionProtocolOptions = { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": anyPack(HttpProtocolOptionsSchema, options) };
  }
  if (s.healthCheck !== undefined) {
    const h = s.healthCheck;
    init.healthChecks = [
      {
        timeout: durationFromMs(h.timeoutMs),
        interval: durationFromMs(h.intervalMs),
        healthyThreshold: h.healthyThreshold,
        unhealthyThreshold: h.unhealthyThreshold,
        healthChecker: h.kind === "HTTP" ? { case: "httpHealthCheck", value: { path: h.path } } : { case: "tcpHealthCheck", value: {} },
      },
    ];
  }
  if (s.circuitBreakers !== undefined) {
    const c = s.circuitBreakers;
    init.circuitBreakers = {
      thresholds: [
        {
          priority: RoutingPriority.DEFAULT,
          ...(c.maxConnections === undefined ? {} : { maxConnections: c.maxConnections }),
          ...(c.maxPendingRequests === undefined ? {} : { maxPendingRequests: c.maxPendingRequests }),
          ...(c.maxRequests === undefined ? {} : { maxRequests: c.maxRequests }),
          ...(c.maxRetries === undefined ? {} : { maxRetries: c.maxRetries }),
        },
      ],
    };
  }
  if (s.outlierDetection !== undefined) {
    const o = s.outlierDetection;
    init.outlierDetection = {
      ...(o.consecutive5xx === undefined ? {} : { consecutive5xx: o.consecutive5xx }),
      ...(o.intervalMs === undefined ? {} : { interval: durationFromMs(o.intervalMs) }),
      ...(o.baseEjectionTimeMs === undefined ? {} : { baseEjectionTime: durationFromMs(o.baseEjectionTimeMs) }),
      ...(o.maxEjectionPercent === undefined ? {} : { maxEjectionPercent: o.maxEjectionPercent }),
    };
  }
  if (s.tls !== undefined) {
    const { sni, validationSecret, clientSecret, subjectAltNames } = s.tls;
    // No common_tls_context without a Secret: a Service with only sni keeps the very bytes it had.
    const secrets = clientSecret !== undefined || validationSecret !== undefined;
    const tls = create(UpstreamTlsContextSchema, {
      ...(sni === undefined ? {} : { sni }),
      ...(secrets
        ? {
            commonTlsContext: {
              ...(clientSecret === undefined ? {} : { tlsCertificateSdsSecretConfigs: [sdsSecretConfig(clientSecret)] }),
              ...(validationSecret === undefined ? {} : { validationContextType: upstreamValidation(validationSecret, subjectAltNames) }),
            },
          }
        : {}),
    });
    init.transportSocket = typedExtension("envoy.transport_sockets.tls", UpstreamTlsContextSchema, tls);
  }
  return create(ClusterSchema, init);
}

/**
 * The CA bundle comes over SDS; SAN matching is the cluster's own, so it goes in the default
 * half of a combined validation context (Envoy merges the two when the Secret arrives).
 */
function upstreamValidation(secret: string, sans: readonly SubjectAltName[] | undefined) {
  if (sans === undefined) return { case: "validationContextSdsSecretConfig" as const, value: sdsSecretConfig(secret) };
  return {
    case: "combinedValidationContext" as const,
    value: {
      defaultValidationContext: { matchTypedSubjectAltNames: sans.map((n) => ({ sanType: sanTypes[n.type], matcher: { matchPattern: { case: "exact" as const, value: n.value } } })) },
      validationContextSdsSecretConfig: sdsSecretConfig(secret),
    },
  };
}

const sanTypes: Record<SubjectAltName["type"], SubjectAltNameMatcher_SanType> = {
  DNS: SubjectAltNameMatcher_SanType.DNS,
  URI: SubjectAltNameMatcher_SanType.URI,
  IP: SubjectAltNameMatcher_SanType.IP_ADDRESS,
  EMAIL: SubjectAltNameMatcher_SanType.EMAIL,
};
