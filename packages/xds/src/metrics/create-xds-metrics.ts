import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AckDetails, ResponseSentDetails, XdsMetricsRecorder, XdsServerLoad } from "../server/xds-metrics-recorder.ts";
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
  /** Buckets of the convergence histogram, in seconds; default 0.5 ms to 30 s. */
  readonly convergenceBuckets?: readonly number[];
}

/** The xDS server's metrics (pass as XdsServerOptions.metrics), registered in your prom-client registry. */
export interface XdsMetrics extends XdsMetricsRecorder {
  /** The full names of the metrics registered, prefix included. */
  readonly names: readonly string[];
}

/** Default buckets of `xds_convergence_seconds`: a loopback Envoy ACKs in under a millisecond, a loaded fleet in seconds. */
export const defaultConvergenceBuckets: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What was sent of one type on one variant. */
interface SentCounts {
  readonly labels: Record<string, string>;
  responses: number;
  heartbeats: number;
  resources: number;
  bytes: number;
}

/** ACKs and NACKs of one type in one node group. */
interface AnswerCounts {
  readonly labels: Record<string, string>;
  acks: number;
  nacks: number;
}

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
  // Per-response and per-ACK counts are kept in plain maps and copied into
  // prom-client when scraped: a stream's event then costs a map lookup and an
  // addition, not prom-client's label hashing for every counter it moves
  // (the fan-out benchmarks' --metrics measures what is left).
  const sent = new Map<string, SentCounts>();
  const answered = new Map<string, AnswerCounts>();
  const copied = <C extends { labels: Record<string, string> }>(name: string, help: string, labelNames: string[], from: Map<string, C>, value: (c: C) => number): void => {
    new Counter({
      name: named(name),
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const c of from.values()) this.inc(c.labels, value(c));
      },
    });
  };
  copied("xds_responses_total", "xDS responses written (a Delta response split in parts counts each part), by resource type and variant", ["type", "variant"], sent, (c) => c.responses);
  copied("xds_heartbeats_total", "Of the responses, TTL heartbeats (nothing changed), by resource type and variant", ["type", "variant"], sent, (c) => c.heartbeats);
  copied("xds_resources_sent_total", "Resources carried by xDS responses, by resource type and variant", ["type", "variant"], sent, (c) => c.resources);
  copied("xds_response_bytes_total", "Encoded bytes of xDS responses written, by resource type and variant", ["type", "variant"], sent, (c) => c.bytes);
  copied("xds_acks_total", "Responses accepted by proxies, by resource type and node group", ["type", "group"], answered, (c) => c.acks);
  copied("xds_nacks_total", "Responses rejected by proxies (NACK), by resource type and node group", ["type", "group"], answered, (c) => c.nacks);
  const convergence = new Histogram({
    name: named("xds_convergence_seconds"),
    help: "From a change set on the cache to each proxy's ACK of it (not to the send), by resource type and node group",
    labelNames: ["type", "group"],
    buckets: [...(options.convergenceBuckets ?? defaultConvergenceBuckets)],
    registers,
  });

  // The server's load, read when scraped (observeLoad): nothing is counted on the stream's path.
  let readLoad: (() => XdsServerLoad) | undefined;
  const fromLoad = (kind: "gauge" | "counter", name: string, help: string, value: (l: XdsServerLoad) => number): void => {
    const Metric = kind === "gauge" ? Gauge : Counter;
    new Metric({
      name: named(name),
      help,
      registers,
      collect() {
        if (readLoad === undefined) return;
        this.reset();
        this.inc(value(readLoad()));
      },
    });
  };
  fromLoad("gauge", "xds_initial_syncs_in_progress", "Streams doing their initial sync now (admission control, maxInitialSyncs)", (l) => l.syncingStreams);
  fromLoad("gauge", "xds_initial_syncs_queued", "Streams waiting for their turn to do their initial sync", (l) => l.queuedStreams);
  fromLoad("counter", "xds_initial_sync_timeouts_total", "Initial syncs that ended by initialSyncTimeoutMs rather than by an ACK or NACK", (l) => l.initialSyncTimeouts);
  fromLoad("gauge", "xds_buffered_bytes", "Bytes written to xDS streams and not yet taken by HTTP/2 (towards slow or stuck clients)", (l) => l.bufferedBytes);
  fromLoad("gauge", "xds_streams_over_budget", "Streams over their write budget (maxBufferedBytes) now: nothing more is written to them until they drain", (l) => l.streamsOverBudget);
  fromLoad("counter", "xds_stuck_streams_ended_total", "Streams ended with RESOURCE_EXHAUSTED for staying over their write budget past stuckStreamTimeoutMs", (l) => l.stuckStreamsEnded);
  fromLoad("counter", "xds_streams_shed_total", "Streams ended with UNAVAILABLE to come back under the stream cap (maxStreams), oldest first", (l) => l.streamsShed);
  fromLoad("counter", "xds_streams_refused_total", "New streams refused with UNAVAILABLE because the server was at its stream cap", (l) => l.streamsRefused);

  const groupOfStream = (streamId: number): string => streams.get(streamId)?.group ?? "";
  const sentFor = (typeUrl: string, variant: string): SentCounts => {
    const key = `${typeUrl}\u0000${variant}`;
    let c = sent.get(key);
    if (c === undefined) sent.set(key, (c = { labels: { type: typeLabel(typeUrl), variant }, responses: 0, heartbeats: 0, resources: 0, bytes: 0 }));
    return c;
  };
  const answeredFor = (typeUrl: string, group: string): AnswerCounts => {
    const key = `${typeUrl}\u0000${group}`;
    let c = answered.get(key);
    if (c === undefined) answered.set(key, (c = { labels: { type: typeLabel(typeUrl), group }, acks: 0, nacks: 0 }));
    return c;
  };

  return {
    names,
    observeLoad(read: () => XdsServerLoad) {
      readLoad = read;
    },
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
      const c = sentFor(event.typeUrl, event.variant);
      c.responses++;
      if (details.heartbeat) c.heartbeats++;
      c.resources += event.resourceNames.length;
      c.bytes += event.bytes;
    },
    acked(event: AckEvent, details: AckDetails) {
      const c = answeredFor(event.typeUrl, groupOfStream(event.streamId));
      c.acks++;
      if (details.convergenceMs !== undefined) convergence.observe(c.labels, details.convergenceMs / 1000);
    },
    nacked(event: NackEvent) {
      answeredFor(event.typeUrl, groupOfStream(event.streamId)).nacks++;
    },
  };
}

/** `envoy.config.cluster.v3.Cluster` for `type.googleapis.com/envoy.config.cluster.v3.Cluster`: the type URL's fixed prefix says nothing. */
function typeLabel(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}
