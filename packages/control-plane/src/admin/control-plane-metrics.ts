import { createXdsMetrics, type XdsMetrics } from "@ts-control-plane/xds/metrics";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ReconcileMetrics } from "../reconciler/reconcile-metrics.ts";

/** The one prefix of every metric the control plane serves (Prometheus naming: one namespace per application). */
export const metricPrefix = "tcp_";

export interface ControlPlaneMetricsOptions {
  /** The newest revision in the store. */
  readonly storedRevision: () => number;
  /** The revision whose configuration is on the cache (what proxies are being served). */
  readonly cacheRevision: () => number;
}

/** Every metric of a running control plane, in one registry, served at GET /metrics (docs/metrics.md). */
export interface ControlPlaneMetrics {
  /** For createXdsServer's `metrics`. */
  readonly xds: XdsMetrics;
  /** For createReconciler's `metrics`. */
  readonly reconcile: ReconcileMetrics;
  /** The full names of every metric registered. */
  readonly names: readonly string[];
  /** `text/plain; version=0.0.4; charset=utf-8`, the Prometheus text format. */
  readonly contentType: string;
  /** The exposition, in the Prometheus text format. */
  text(): Promise<string>;
}

/** Seconds: a compile of a few objects takes milliseconds, of thousands, seconds. */
const durationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The control plane's metrics: the library's xDS metrics (node groups as
 * the `group` label: the cache key is the node group) and the pipeline's
 * own (revisions, compile, store, push, queue depth). No default process
 * metrics: every name served is one docs/metrics.md explains.
 */
export function createControlPlaneMetrics(options: ControlPlaneMetricsOptions): ControlPlaneMetrics {
  const registry = new Registry();
  const registers = [registry];
  const xds = createXdsMetrics({ registry, prefix: metricPrefix, groupOf: (group) => group });
  const names = [...xds.names];
  const named = (name: string): string => {
    names.push(metricPrefix + name);
    return metricPrefix + name;
  };
  new Gauge({
    name: named("store_revision"),
    help: "The newest revision in the store",
    registers,
    collect() {
      this.set(options.storedRevision());
    },
  });
  new Gauge({
    name: named("cache_revision"),
    help: "The revision whose configuration is set on the xDS cache (what proxies are served)",
    registers,
    collect() {
      this.set(options.cacheRevision());
    },
  });
  new Gauge({
    name: named("reconcile_queue_depth"),
    help: "Revisions stored but not yet compiled and set on the cache (waiting for the debounce or a running push)",
    registers,
    collect() {
      this.set(Math.max(0, options.storedRevision() - options.cacheRevision()));
    },
  });
  const revisions = new Counter({ name: named("revisions_total"), help: "Revisions this process stored (accepted changes that changed something)", registers });
  const compile = new Histogram({ name: named("compile_duration_seconds"), help: "Time to compile an object set into Envoy resources (a change judged, or the stored set built for a push)", buckets: durationBuckets, registers });
  const commit = new Histogram({ name: named("store_commit_duration_seconds"), help: "Time of a store write transaction, without the compile that judges the change inside it", buckets: durationBuckets, registers });
  const push = new Histogram({ name: named("cache_push_duration_seconds"), help: "Time to set a revision's snapshots on the cache and notify every watching stream", buckets: durationBuckets, registers });

  return {
    xds,
    reconcile: {
      compiled: (ms) => compile.observe(ms / 1000),
      committed: (ms, outcome) => {
        commit.observe(ms / 1000);
        if (outcome.changed) revisions.inc();
      },
      pushed: (ms) => push.observe(ms / 1000),
    },
    names,
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}
