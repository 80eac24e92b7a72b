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

/** A route configuration with one virtual host routing everything to `backend`. */
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

/** A ClusterLoadAssignment with one endpoint for cluster `name`. */
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

/** An SDS secret holding a (placeholder) TLS certificate and key. */
export function tlsSecret(name = "server-cert"): JsonObject {
  return {
    name,
    tlsCertificate: { certificateChain: { filename: "/etc/certs/server.crt" }, privateKey: { filename: "/etc/certs/server.key" } },
  };
}

/**
 * A listener whose HCM uses more of the API: access log, local rate limit, CORS
 * and fault filters, per-route filter config, retries, hash policy, header
 * manipulation, direct responses and a TCP proxy chain on a second filter chain.
 */
export function richHcmListener(name = "rich", port = 10001): JsonObject {
  const rateLimit = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
  return {
    name,
    address: { socketAddress: { address: "127.0.0.1", portValue: port } },
    perConnectionBufferLimitBytes: 65536,
    listenerFilters: [
      {
        name: "envoy.filters.listener.tls_inspector",
        typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" },
      },
    ],
    filterChains: [
      {
        filterChainMatch: { destinationPort: port, transportProtocol: "raw_buffer" },
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typedConfig: {
              "@type": HCM,
              statPrefix: name,
              accessLog: [
                {
                  name: "envoy.access_loggers.file",
                  typedConfig: {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                    path: "/dev/null",
                    logFormat: { textFormatSource: { inlineString: "%START_TIME% %REQ(:METHOD)% %RESPONSE_CODE%\n" } },
                  },
                },
              ],
              routeConfig: {
                name: `${name}-routes`,
                requestHeadersToRemove: ["x-internal"],
                virtualHosts: [
                  {
                    name: "api",
                    domains: ["api.example.com"],
                    retryPolicy: { retryOn: "connect-failure,refused-stream", numRetries: 3, perTryTimeout: "2s" },
                    routes: [
                      {
                        match: { prefix: "/orders", caseSensitive: false, queryParameters: [{ name: "debug", presentMatch: true }] },
                        route: {
                          cluster: "backend",
                          timeout: "10s",
                          hashPolicy: [{ header: { headerName: "x-user-id" } }],
                          requestMirrorPolicies: [{ cluster: "canary", runtimeFraction: { defaultValue: { numerator: 10, denominator: "HUNDRED" } } }],
                          maxStreamDuration: { maxStreamDuration: "60s" },
                        },
                        typedPerFilterConfig: {
                          "envoy.filters.http.local_ratelimit": {
                            "@type": rateLimit,
                            statPrefix: "orders_rl",
                            tokenBucket: { maxTokens: 100, tokensPerFill: 10, fillInterval: "1s" },
                            filterEnabled: { defaultValue: { numerator: 100, denominator: "HUNDRED" } },
                            filterEnforced: { defaultValue: { numerator: 100, denominator: "HUNDRED" } },
                          },
                        },
                        responseHeadersToAdd: [{ header: { key: "x-served-by", value: "%HOSTNAME%" }, appendAction: "OVERWRITE_IF_EXISTS_OR_ADD" }],
                      },
                      { match: { path: "/healthz" }, directResponse: { status: 200, body: { inlineString: "ok" } } },
                      { match: { prefix: "/" }, route: { cluster: "backend", autoHostRewrite: true } },
                    ],
                  },
                ],
              },
              httpFilters: [
                {
                  name: "envoy.filters.http.local_ratelimit",
                  typedConfig: {
                    "@type": rateLimit,
                    statPrefix: "http_local_rate_limiter",
                    tokenBucket: { maxTokens: 1000, tokensPerFill: 1000, fillInterval: "1s" },
                  },
                },
                { name: "envoy.filters.http.cors", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" } },
                {
                  name: "envoy.filters.http.fault",
                  typedConfig: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                    abort: { httpStatus: 503, percentage: { numerator: 0, denominator: "HUNDRED" } },
                    maxActiveFaults: 10,
                  },
                },
                { name: "envoy.filters.http.router", typedConfig: { "@type": ROUTER } },
              ],
              commonHttpProtocolOptions: { idleTimeout: "300s", headersWithUnderscoresAction: "REJECT_REQUEST" },
              http2ProtocolOptions: { maxConcurrentStreams: 128, initialStreamWindowSize: 65536 },
              streamIdleTimeout: "30s",
              requestTimeout: "60s",
              xffNumTrustedHops: 1,
            },
          },
        ],
      },
      {
        filterChainMatch: { destinationPort: port, transportProtocol: "tls" },
        filters: [
          {
            name: "envoy.filters.network.tcp_proxy",
            typedConfig: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
              statPrefix: `${name}_tcp`,
              cluster: "backend",
              idleTimeout: "600s",
            },
          },
        ],
      },
    ],
  };
}

/**
 * A STATIC cluster using more of the API: HTTP/2 upstream protocol options,
 * least-request settings with slow start, keepalives, retry budgets, a ring of
 * priorities and a second locality, and an HTTP health check with expected statuses.
 */
export function richCluster(name = "rich-backend"): JsonObject {
  return {
    name,
    type: "STATIC",
    connectTimeout: "2s",
    lbPolicy: "LEAST_REQUEST",
    leastRequestLbConfig: { choiceCount: 3, activeRequestBias: { defaultValue: 1.0, runtimeKey: "lb.bias" }, slowStartConfig: { slowStartWindow: "30s", aggression: { defaultValue: 1.5, runtimeKey: "lb.aggression" } } },
    upstreamConnectionOptions: { tcpKeepalive: { keepaliveProbes: 3, keepaliveTime: 30, keepaliveInterval: 5 } },
    typedExtensionProtocolOptions: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        commonHttpProtocolOptions: { idleTimeout: "60s", maxRequestsPerConnection: 1000 },
        explicitHttpConfig: { http2ProtocolOptions: { maxConcurrentStreams: 100, initialConnectionWindowSize: 1048576 } },
      },
    },
    circuitBreakers: {
      thresholds: [
        { priority: "DEFAULT", maxConnections: 2048, retryBudget: { budgetPercent: { value: 20 }, minRetryConcurrency: 3 } },
        { priority: "HIGH", maxConnections: 4096 },
      ],
    },
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          locality: { zone: "a" },
          priority: 0,
          loadBalancingWeight: 80,
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: "127.0.0.1", portValue: 9001 } }, hostname: "a1.internal" } }],
        },
        {
          locality: { zone: "b" },
          priority: 1,
          loadBalancingWeight: 20,
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: "127.0.0.1", portValue: 9002 } } }, metadata: { filterMetadata: { "envoy.lb": { canary: true } } } }],
        },
      ],
      policy: { overprovisioningFactor: 140 },
    },
    healthChecks: [
      {
        timeout: "2s",
        interval: "10s",
        intervalJitter: "1s",
        unhealthyThreshold: 2,
        healthyThreshold: 1,
        noTrafficInterval: "60s",
        httpHealthCheck: { path: "/ready", expectedStatuses: [{ start: 200, end: 300 }], requestHeadersToAdd: [{ header: { key: "x-hc", value: "1" } }] },
      },
    ],
    ignoreHealthOnHostRemoval: true,
  };
}
