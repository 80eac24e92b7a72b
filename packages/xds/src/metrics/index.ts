/**
 * Prometheus metrics for the xDS server, with prom-client, which the library
 * does not depend on: this entry is the only one that imports it (an optional
 * peer dependency). Pass {@link createXdsMetrics}'s result as
 * `XdsServerOptions.metrics`; docs/metrics.md lists every metric.
 *
 * @module @ts-control-plane/xds/metrics
 */
export { createXdsMetrics, defaultConvergenceBuckets, type XdsMetrics, type XdsMetricsOptions } from "./create-xds-metrics.ts";
