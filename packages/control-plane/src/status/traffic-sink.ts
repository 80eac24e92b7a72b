import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { StreamMetricsMessageSchema, StreamMetricsResponseSchema } from "@ts-control-plane/envoy-api/envoy/service/metrics/v3/metrics_service_pb";
import type { MetricFamily } from "@ts-control-plane/envoy-api/io/prometheus/client/metrics_pb";

/** What one proxy served so far, from its own counters (cumulative since it started). */
export interface TrafficCounts {
  /** Downstream HTTP requests completed, over every HTTP listener. */
  readonly requests: number;
  /** Of those, answered 5xx. */
  readonly errors5xx: number;
  /** Upstream connection attempts (`cluster.<name>.upstream_cx_total`), over the clusters of the configuration. */
  readonly connects: number;
  /** Of those, failed (`cluster.<name>.upstream_cx_connect_fail`: refused, timed out). */
  readonly connectFailures: number;
}

export interface TrafficSink {
  /** Binds the MetricsService; returns the port (0 picks a free one). */
  listen(options: { host: string; port: number }): Promise<number>;
  /** The latest counts a node pushed; undefined before its first push. */
  counts(nodeId: string): TrafficCounts | undefined;
  /** Node ids that pushed counts. */
  nodes(): string[];
  /** Called after every push; returns the unsubscribe. */
  onUpdate(listener: () => void): () => void;
  close(): Promise<void>;
}

const streamMetricsPath = "/envoy.service.metrics.v3.MetricsService/StreamMetrics";

/** `http.<stat_prefix>.downstream_rq_5xx` and `..._completed` of our HTTP listeners (stat_prefix = the listener's name); Envoy's own admin listener is `http.admin.`. */
const counterOf = /^http\.(.+)\.downstream_rq_(5xx|completed)$/;
/**
 * `cluster.<name>.upstream_cx_total` and `..._connect_fail`, the names Envoy's metrics_service
 * sink sends (no tag extraction into labels unless emit_tags_as_labels). The bootstrap's own
 * clusters (xds_cluster, metrics_sink: envoy-bootstrap.ts) reach the control plane, not the
 * configuration's upstreams: a control plane restart fails them on every proxy alike.
 */
const clusterCounterOf = /^cluster\.(.+)\.upstream_cx_(total|connect_fail)$/;
const bootstrapClusters: ReadonlySet<string> = new Set(["xds_cluster", "metrics_sink"]);

function countsOf(families: readonly MetricFamily[]): TrafficCounts {
  let requests = 0;
  let errors5xx = 0;
  let connects = 0;
  let connectFailures = 0;
  for (const family of families) {
    const total = (): number => family.metric.reduce((sum, metric) => sum + (metric.counter?.value ?? 0), 0);
    const m = counterOf.exec(family.name);
    if (m !== null) {
      if (m[1] === "admin") continue;
      if (m[2] === "5xx") errors5xx += total();
      else requests += total();
      continue;
    }
    const c = clusterCounterOf.exec(family.name);
    if (c === null || bootstrapClusters.has(c[1] ?? "")) continue;
    if (c[2] === "total") connects += total();
    else connectFailures += total();
  }
  return { requests, errors5xx, connects, connectFailures };
}

/**
 * Receives the stats Envoy pushes over the gRPC MetricsService (`envoy.stat_sinks.metrics_service`)
 * and keeps, per node, its downstream request and 5xx counters: what a rollout compares between
 * the canary and the proxies still on the previous revision (issue 11, "judged by traffic").
 */
export function createTrafficSink(options: { readonly log: (line: string) => void }): TrafficSink {
  const latest = new Map<string, TrafficCounts>();
  const listeners = new Set<() => void>();
  const server = new grpc.Server();
  server.addService(
    {
      StreamMetrics: {
        path: streamMetricsPath,
        requestStream: true,
        responseStream: false,
        requestSerialize: (m: Buffer) => m,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: () => Buffer.from(toBinary(StreamMetricsResponseSchema, create(StreamMetricsResponseSchema))),
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      StreamMetrics: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        // Envoy names its node in the first message of a stream only.
        let nodeId: string | undefined;
        call.on("data", (bytes: Buffer) => {
          let message: ReturnType<typeof fromBinary<typeof StreamMetricsMessageSchema>>;
          try {
            message = fromBinary(StreamMetricsMessageSchema, bytes);
          } catch (error) {
            options.log(`metrics sink: a message that is not a StreamMetricsMessage was dropped: ${error instanceof Error ? error.message : String(error)}`);
            return;
          }
          nodeId = message.identifier?.node?.id ?? nodeId;
          if (nodeId === undefined) return;
          latest.set(nodeId, countsOf(message.envoyMetrics));
          for (const l of listeners) l();
        });
        call.on("end", () => callback(null, Buffer.alloc(0)));
        call.on("error", () => {});
      },
    },
  );
  return {
    listen: ({ host, port }) =>
      new Promise((resolve, reject) => server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)))),
    counts: (nodeId) => latest.get(nodeId),
    nodes: () => [...latest.keys()],
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
        // Envoy keeps its metrics stream open: do not wait for it.
        setTimeout(() => server.forceShutdown(), 200).unref();
      }),
  };
}
