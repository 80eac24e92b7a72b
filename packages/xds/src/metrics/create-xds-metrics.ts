import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AckDetails, ResponseSentDetails, XdsMetricsRecorder } from "../server/xds-metrics-recorder.ts";
import type { AckEvent, NackEvent, ResponseEvent, StreamCloseEvent, StreamOpenEvent, StreamRekeyEvent } from "../server/xds-hooks.ts";

/** Options of {@link createXdsMetrics}. */
export interface XdsMetricsOptions {
  /** The prom-client registry the metrics are registered in: yours, so they are scraped with the rest of your service's. */
  readonly registry: Registry;
  /** Put before every name (e.g. "myapp_" gives `myapp_xds_acks_total`); none by default. */
  readonly prefix?: string;
  /**
   * The `group` label of a stream, from the cache key it reads from. By
   * default "" for every stream: a snapshot cache keys by node id, and a label
   * per node would make one series per proxy. Give the identity when your keys
   * are a few node groups (the control plane does).
   */
  readonly groupOf?: (cacheKey: string) => string;
  /** Buckets of the convergence histogram, in seconds; default 1 ms to 30 s. */
  readonly convergenceBuckets?: readonly number[];
}

/** The xDS server's metrics (pass as XdsServerOptions.metrics), registered in your prom-client registry. */
export interface XdsMetrics extends XdsMetricsRecorder {
  /** The full names of the metrics registered, prefix included. */
  readonly names: readonly string[];
}

/** Default buckets of `xds_convergence_seconds`: a loopback Envoy ACKs in milliseconds, a loaded fleet in seconds. */
export const defaultConvergenceBuckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the recorder remembers of an open stream: labels for the events that do not carry them. */
interface OpenStream {
  readonly nodeId: string;
  readonly variant: string;
  group: string;
}

/**
 * Prometheus metrics of an xDS server, with prom-client (an optional peer
 * dependency of the library: install it beside it). Names follow Prometheus
 * conventions (`_total` counters, base units); docs/metrics.md lists each.
 *
 * ```ts
 * const registry = new Registry();
 * const server = createXdsServer({ cache, metrics: createXdsMetrics({ registry }) });
 * // serve `await registry.metrics()` as text/plain; version=0.0.4
 * ```
 *
 * @throws Error from prom-client when a metric of the same name is already in the registry.
 */
export function createXdsMetrics(options: XdsMetricsOptions): XdsMetrics {
  const prefix = options.prefix ?? "";
  const groupOf = options.groupOf ?? (() => "");
  const registers = [options.registry];
  const names: string[] = [];
  const named = (name: string): string => {
    names.push(prefix + name);
    return prefix + name;
  };
  const streams = new Map<number, OpenStream>();

  new Gauge({
    name: named("xds_connected_proxies"),
    help: "Proxies (distinct node ids) with at least one open xDS stream, by node group and xDS variant",
    labelNames: ["group", "variant"],
    registers,
    // Counted at scrape time from the open streams: a proxy with several per-type streams counts once.
    collect() {
      const nodes = new Map<string, { group: string; variant: string; ids: Set<string> }>();
      for (const s of streams.values()) {
        const key = `${s.group}\u0000${s.variant}`;
        let entry = nodes.get(key);
        if (entry === undefined) nodes.set(key, (entry = { group: s.group, variant: s.variant, ids: new Set() }));
        entry.ids.add(s.nodeId);
      }
      this.reset();
      for (const e of nodes.values()) this.set({ group: e.group, variant: e.variant }, e.ids.size);
    },
  });
  const opens = new Counter({ name: named("xds_stream_opens_total"), help: "xDS streams opened (first request with a node accepted), by variant", labelNames: ["variant"], registers });
  const closes = new Counter({ name: named("xds_stream_closes_total"), help: "xDS streams that had opened and ended, for any reason, by variant", labelNames: ["variant"], registers });
  const errors = new Counter({ name: named("xds_stream_errors_total"), help: "xDS streams the server ended with an error, by variant and gRPC status code", labelNames: ["variant", "code"], registers });
  const responses = new Counter({ name: named("xds_responses_total"), help: "xDS responses written (a Delta response split in parts counts each part), by resource type and variant", labelNames: ["type", "variant"], registers });
  const heartbeats = new Counter({ name: named("xds_heartbeats_total"), help: "Of the responses, TTL heartbeats (nothing changed), by resource type and variant", labelNames: ["type", "variant"], registers });
  const resources = new Counter({ name: named("xds_resources_sent_total"), help: "Resources carried by xDS responses, by resource type and variant", labelNames: ["type", "variant"], registers });
  const bytes = new Counter({ name: named("xds_response_bytes_total"), help: "Encoded bytes of xDS responses written, by resource type and variant", labelNames: ["type", "variant"], registers });
  const acks = new Counter({ name: named("xds_acks_total"), help: "Responses accepted by proxies, by resource type and node group", labelNames: ["type", "group"], registers });
  const nacks = new Counter({ name: named("xds_nacks_total"), help: "Responses rejected by proxies (NACK), by resource type and node group", labelNames: ["type", "group"], registers });
  const convergence = new Histogram({
    name: named("xds_convergence_seconds"),
    help: "From a change set on the cache to each proxy's ACK of it (not to the send), by resource type and node group",
    labelNames: ["type", "group"],
    buckets: [...(options.convergenceBuckets ?? defaultConvergenceBuckets)],
    registers,
  });

  const groupOfStream = (streamId: number): string => streams.get(streamId)?.group ?? "";

  return {
    names,
    streamOpened(event: StreamOpenEvent) {
      streams.set(event.streamId, { nodeId: event.nodeId, variant: event.variant, group: groupOf(event.cacheKey) });
      opens.inc({ variant: event.variant });
    },
    streamRekeyed(event: StreamRekeyEvent) {
      const s = streams.get(event.streamId);
      if (s !== undefined) s.group = groupOf(event.cacheKey);
    },
    streamClosed(event: StreamCloseEvent, details: { readonly opened: boolean }) {
      if (details.opened) {
        streams.delete(event.streamId);
        closes.inc({ variant: event.variant });
      }
      if (event.error !== undefined) errors.inc({ variant: event.variant, code: String(event.error.code) });
    },
    responseSent(event: ResponseEvent, details: ResponseSentDetails) {
      const labels = { type: typeLabel(event.typeUrl), variant: event.variant };
      responses.inc(labels);
      if (details.heartbeat) heartbeats.inc(labels);
      resources.inc(labels, event.resourceNames.length);
      bytes.inc(labels, event.bytes);
    },
    acked(event: AckEvent, details: AckDetails) {
      const labels = { type: typeLabel(event.typeUrl), group: groupOfStream(event.streamId) };
      acks.inc(labels);
      if (details.convergenceMs !== undefined) convergence.observe(labels, details.convergenceMs / 1000);
    },
    nacked(event: NackEvent) {
      nacks.inc({ type: typeLabel(event.typeUrl), group: groupOfStream(event.streamId) });
    },
  };
}

/** `envoy.config.cluster.v3.Cluster` for `type.googleapis.com/envoy.config.cluster.v3.Cluster`: the type URL's fixed prefix says nothing. */
function typeLabel(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}
