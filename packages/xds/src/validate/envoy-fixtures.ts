// Realistic Envoy resources in proto3 JSON, shared by the unit tests, the oracle
// test against a real Envoy (e2e/pgv) and the benchmark. Each builder returns a
// fresh object, so a test can break one field without affecting the others.
import type { JsonObject } from "@bufbuild/protobuf";

const HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const UPSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const DOWNSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

/** A STRICT_DNS cluster with upstream TLS, health checks, circuit breakers and outlier detection. */
export function tlsCluster(name = "backend", port = 8443): JsonObject {
  return {
    name,
    type: "STRICT_DNS",
    connectTimeout: "0.25s",
    lbPolicy: "LEAST_REQUEST",
    dnsLookupFamily: "V4_ONLY",
    perConnectionBufferLimitBytes: 32768,
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          locality: { region: "eu-west-1", zone: "a" },
          lbEndpoints: [
            { endpoint: { address: { socketAddress: { address: "backend.internal", portValue: port } } }, loadBalancingWeight: 10 },
            { endpoint: { address: { socketAddress: { address: "127.0.0.2", portValue: port } } }, loadBalancingWeight: 5 },
          ],
        },
      ],
    },
    healthChecks: [
      {
        timeout: "1s",
        interval: "5s",
        unhealthyThreshold: 3,
        healthyThreshold: 2,
        httpHealthCheck: { path: "/healthz", host: "backend.internal" },
      },
    ],
    circuitBreakers: { thresholds: [{ priority: "DEFAULT", maxConnections: 1024, maxRequests: 1024, maxRetries: 3 }] },
    outlierDetection: { consecutive5xx: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
    transportSocket: {
      name: "envoy.transport_sockets.tls",
      typedConfig: {
        "@type": UPSTREAM_TLS,
        sni: "backend.internal",
        commonTlsContext: {
          tlsParams: { tlsMinimumProtocolVersion: "TLSv1_2" },
          alpnProtocols: ["h2", "http/1.1"],
          validationContext: { trustedCa: { filename: "/etc/ssl/certs/ca-certificates.crt" } },
        },
      },
    },
    commonLbConfig: { healthyPanicThreshold: { value: 50 } },
  };
}

/** An EDS cluster, the shape a control plane sends most. */
export function edsCluster(name: string): JsonObject {
  return {
    name,
    type: "EDS",
    connectTimeout: "1s",
    lbPolicy: "ROUND_ROBIN",
    edsClusterConfig: { serviceName: name, edsConfig: { ads: {}, resourceApiVersion: "V3" } },
    circuitBreakers: { thresholds: [{ maxConnections: 4096, maxPendingRequests: 4096, maxRequests: 4096 }] },
    typedExtensionProtocolOptions: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicitHttpConfig: { http2ProtocolOptions: { maxConcurrentStreams: 100 } },
      },
    },
  };
}

export function routeConfiguration(name = "local_route"): JsonObject {
  return {
    name,
    virtualHosts: [
      {
        name: "backend",
        domains: ["example.com", "*.example.com"],
        routes: [
          {
            match: { prefix: "/api/", headers: [{ name: ":method", stringMatch: { exact: "GET" } }] },
            route: { cluster: "backend", timeout: "15s", retryPolicy: { retryOn: "5xx", numRetries: 2 } },
            requestHeadersToAdd: [{ header: { key: "x-route", value: "api" } }],
          },
          {
            match: { safeRegex: { regex: "^/v[0-9]+/items/[a-z0-9-]+$" } },
            route: { weightedClusters: { clusters: [{ name: "backend", weight: 90 }, { name: "canary", weight: 10 }] } },
          },
          { match: { pathSeparatedPrefix: "/static" }, route: { cluster: "static", prefixRewrite: "/" } },
          { match: { prefix: "/" }, redirect: { httpsRedirect: true } },
        ],
      },
    ],
  };
}

/** A listener whose HTTP connection manager carries its routes inline and a router filter. */
export function hcmListener(name = "http", port = 10000, routeName = "local_route"): JsonObject {
  return {
    name,
    address: { socketAddress: { address: "127.0.0.1", portValue: port } },
    filterChains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typedConfig: {
              "@type": HCM,
              statPrefix: "ingress_http",
              codecType: "AUTO",
              routeConfig: routeConfiguration(routeName),
              httpFilters: [{ name: "envoy.filters.http.router", typedConfig: { "@type": ROUTER } }],
              commonHttpProtocolOptions: { idleTimeout: "300s" },
              useRemoteAddress: true,
            },
          },
        ],
      },
    ],
  };
}

/** A TLS listener whose HCM fetches routes over RDS (ADS). */
export function rdsTlsListener(name: string, port: number): JsonObject {
  return {
    name,
    address: { socketAddress: { address: "127.0.0.1", portValue: port } },
    listenerFilters: [
      {
        name: "envoy.filters.listener.tls_inspector",
        typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" },
      },
    ],
    filterChains: [
      {
        filterChainMatch: { serverNames: [`${name}.example.com`] },
        transportSocket: {
          name: "envoy.transport_sockets.tls",
          typedConfig: {
            "@type": DOWNSTREAM_TLS,
            commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: `${name}-cert`, sdsConfig: { ads: {}, resourceApiVersion: "V3" } }] },
          },
        },
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typedConfig: {
              "@type": HCM,
              statPrefix: name,
              rds: { routeConfigName: `${name}-routes`, configSource: { ads: {}, resourceApiVersion: "V3" } },
              httpFilters: [{ name: "envoy.filters.http.router", typedConfig: { "@type": ROUTER } }],
            },
          },
        ],
      },
    ],
  };
}

export function clusterLoadAssignment(name = "backend"): JsonObject {
  return {
    clusterName: name,
    endpoints: [
      {
        locality: { zone: "a" },
        priority: 0,
        lbEndpoints: [
          { endpoint: { address: { socketAddress: { address: "10.0.0.1", portValue: 8080 } } }, healthStatus: "HEALTHY" },
          { endpoint: { address: { socketAddress: { address: "10.0.0.2", portValue: 8080 } } } },
        ],
      },
    ],
    policy: { overprovisioningFactor: 140 },
  };
}

export function tlsSecret(name = "server-cert"): JsonObject {
  return {
    name,
    tlsCertificate: { certificateChain: { filename: "/etc/certs/server.crt" }, privateKey: { filename: "/etc/certs/server.key" } },
  };
}
