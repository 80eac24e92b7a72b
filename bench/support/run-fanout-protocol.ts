// One run of a fan-out benchmark for one protocol (delta-fanout.ts runs both,
// each in its own process; sotw-fanout.ts runs SotW in its own): our
// server in this process, N lean ADS clients (fleet-clients.ts) in a child
// process, one node group holding R EDS clusters and R load assignments; then
// ONE endpoint changes and we measure how long the fleet takes to receive and
// ACK it, what it cost the server, and how many bytes were encoded versus
// written (docs/xds-protocol.md § Cost: encode once, share the bytes). The server
// and its options are the same for both protocols; only the clients differ.
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl, type XdsServer } from "@ts-control-plane/xds";
import { createXdsMetrics } from "@ts-control-plane/xds/metrics";
import { Registry } from "prom-client";
import { histogramQuantile, PrometheusScrape } from "../../e2e/harness/prometheus-text.ts";
import { AckTracker } from "./ack-tracker.ts";
import { addressesOf, encodedAssignment, fanoutResources } from "./fanout-resources.ts";
import { distribution, now, phaseMonitor, settledMemory, startCpuProfile, type Distribution } from "./fanout-measure.ts";
import type { FleetChildMessage, FleetParentMessage, FleetProtocol } from "./fleet-clients.ts";
import { forkProcess } from "./forked-process.ts";

export interface ProtocolRunOptions {
  readonly protocol: FleetProtocol;
  readonly clients: number;
  /** R: EDS clusters, each with its ClusterLoadAssignment. */
  readonly endpoints: number;
  /** Bound on each wait (initial config, the change). */
  readonly timeoutMs: number;
  /** Writes a V8 CPU profile of the server, from setSnapshot to the last ACK, to this file. */
  readonly cpuProfilePath?: string;
  /** Serve over mTLS (mtls-connect.ts): the server's files and CA, and the one certificate every client presents. */
  readonly mtls?: MtlsFiles;
  /** Run with the prom-client metrics attached (`--metrics`), to measure what they cost. */
  readonly metrics?: boolean;
  /** The server's maxInitialSyncs (admission control of initial syncs); its default when absent. */
  readonly maxInitialSyncs?: number;
}

/** PEM files of an mTLS run: the CA both sides trust, the server's pair and the clients' pair. */
export interface MtlsFiles {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The identity the clients' certificate carries; `authorize` checks it, as the control plane does. */
  readonly clientIdentity: string;
}

export interface EncodeCounters {
  /** SotW: whole response bodies; Delta: Resource wrappers. Each encoded once, shared by every stream. */
  readonly bodiesEncoded: number;
  readonly bodyBytesEncoded: number;
  readonly responsesWritten: number;
  readonly bytesWritten: number;
}

export interface ProtocolResult {
  readonly protocol: FleetProtocol;
  readonly clients: number;
  readonly endpoints: number;
  /** Encoding 2R resources and building the first snapshot. */
  readonly setupMs: number;
  /** From the client process opening its streams until every client held R clusters and R assignments. */
  readonly initialMs: number;
  /** Building the one-change snapshot (one resource re-encoded). */
  readonly changeSnapshotMs: number;
  /** Until setSnapshot resolved: every stream was told. */
  readonly notifyMs: number;
  /** Per client, from setSnapshot until it received the changed EDS response. */
  readonly receivedMs: Distribution;
  /** Per stream, from setSnapshot until the server saw its ACK. */
  readonly ackedMs: Distribution;
  /** Server CPU (user + system) from setSnapshot until the last ACK. */
  readonly changeCpuMs: number;
  /** CPU the client process spent until every client had the change (it shares the 2 cores with the server). */
  readonly clientCpuMs: number;
  readonly rssBaselineBytes: number;
  readonly rssConnectedBytes: number;
  readonly rssPerStreamBytes: number;
  readonly heapPerStreamBytes: number;
  /** Peak RSS of the server process over the whole run. */
  readonly rssPeakBytes: number;
  /** For the change, per client: server bytes written / N, and what the clients counted in the changed response. */
  readonly changeBytesPerClient: number;
  readonly changeResourcesPerClient: { readonly min: number; readonly max: number };
  readonly changeBytesReceivedPerClient: { readonly min: number; readonly max: number };
  /** Server encode-once counters (metrics or deltaMetrics deltas) for the initial push to every client, and for the change. */
  readonly initial: EncodeCounters;
  readonly change: EncodeCounters;
  /** Nodes whose status shows the changed EDS version ACKed (should equal clients). */
  readonly statusAcked: number;
  /** From the client process opening its streams until the server saw every client's ACK of the initial CDS and EDS (connect, handshake, config). */
  readonly initialAckedMs: number;
  /** Server CPU (user + system) from the client process starting until every initial ACK. */
  readonly initialCpuMs: number;
  /** CPU the client process spent from opening its streams until every client held the initial config (it shares the cores with the server). */
  readonly initialClientCpuMs: number;
  /** Whether the metrics were attached. */
  readonly metrics: boolean;
  /** Longest event-loop block (perf_hooks.monitorEventLoopDelay max) from the clients connecting until every initial ACK. */
  readonly initialLoopMaxMs: number;
  /** Longest GC pause during the initial sync (a part of a long block that is the collector's). */
  readonly initialGcMaxMs: number;
  /** Peak RSS sampled during the initial sync, less the baseline, per client. */
  readonly initialRssPerStreamBytes: number;
  /** Longest event-loop block from setSnapshot until the last ACK of the change. */
  readonly changeLoopMaxMs: number;
  /**
   * With metrics: the change's xds_convergence_seconds, in milliseconds (p50
   * and p95 estimated from the buckets, as histogram_quantile does), and how
   * many ACKs it timed (should equal clients).
   */
  readonly convergence?: { readonly count: number; readonly p50Ms: number; readonly p95Ms: number };
}

function counters(server: XdsServer, protocol: FleetProtocol): EncodeCounters {
  const m = protocol === "delta" ? server.deltaMetrics : server.metrics;
  return { bodiesEncoded: m.bodiesEncoded, bodyBytesEncoded: m.bodyBytesEncoded, responsesWritten: m.responsesWritten, bytesWritten: m.bytesWritten };
}

function minus(a: EncodeCounters, b: EncodeCounters): EncodeCounters {
  return {
    bodiesEncoded: a.bodiesEncoded - b.bodiesEncoded,
    bodyBytesEncoded: a.bodyBytesEncoded - b.bodyBytesEncoded,
    responsesWritten: a.responsesWritten - b.responsesWritten,
    bytesWritten: a.bytesWritten - b.bytesWritten,
  };
}

const range = (values: readonly number[]): { min: number; max: number } => ({ min: Math.min(...values), max: Math.max(...values) });

export async function runFanoutProtocol(options: ProtocolRunOptions): Promise<ProtocolResult> {
  const { protocol, clients, endpoints, timeoutMs } = options;
  const groupKey = "bench";
  const acks = new AckTracker({ now });
  // Every client has its own node id; all share one node group (cache key), as
  // a fleet of identical proxies does.
  const cache = createSnapshotCache({ nodeKey: () => groupKey });
  const mtls = options.mtls;
  const registry = options.metrics === true ? new Registry() : undefined;
  const server = createXdsServer({
    cache,
    controlPlaneId: "bench",
    ...(options.maxInitialSyncs === undefined ? {} : { maxInitialSyncs: options.maxInitialSyncs }),
    ...(registry === undefined ? {} : { metrics: createXdsMetrics({ registry }) }),
    hooks: { onAck: (e) => acks.onAck(e) },
    ...(mtls === undefined
      ? {}
      : {
          tls: { certFile: mtls.serverCertFile, keyFile: mtls.serverKeyFile, clientCaFile: mtls.caFile, watchIntervalMs: 0 },
          // The control plane's check is a lookup of the identity; this one costs the same.
          authorize: (_node, peer) => (peer?.identity === mtls.clientIdentity ? { allowed: true } : { allowed: false, reason: `unexpected identity ${peer?.identity}` }),
        }),
  });
  const monitor = phaseMonitor();
  let fleet: ReturnType<typeof forkProcess<FleetParentMessage, FleetChildMessage>> | undefined;
  try {
    const port = await server.listen({ host: "127.0.0.1", port: 0 });
    const setupStart = now();
    const resources = fanoutResources(endpoints);
    const v1 = createSnapshot({ resources: [...resources.clusters, ...resources.assignments] });
    await cache.setSnapshot(groupKey, v1);
    const setupMs = now() - setupStart;
    const baseline = await settledMemory();
    const m0 = counters(server, protocol);
    const initialCpu0 = process.cpuUsage();
    monitor.reset();

    fleet = forkProcess<FleetParentMessage, FleetChildMessage>(
      new URL("./fleet-clients.ts", import.meta.url),
      [
        "--port",
        String(port),
        "--clients",
        String(clients),
        "--resources",
        String(endpoints),
        "--protocol",
        protocol,
        ...(mtls === undefined ? [] : ["--ca", mtls.caFile, "--cert", mtls.clientCertFile, "--key", mtls.clientKeyFile]),
      ],
      { exitMessage: { type: "exit" } },
    );
    const connecting = await fleet.next("connecting", { timeoutMs });
    const initial = await fleet.next("initial", { timeoutMs });
    const initialEdsAcks = await acks.waitFor({ typeUrl: TypeUrl.Endpoint, version: v1.typeVersion(TypeUrl.Endpoint), count: clients, timeoutMs });
    const initialCdsAcks = await acks.waitFor({ typeUrl: TypeUrl.Cluster, version: v1.typeVersion(TypeUrl.Cluster), count: clients, timeoutMs });
    const initialCpu = process.cpuUsage(initialCpu0);
    const initialLoopMaxMs = monitor.loopMaxMs();
    const initialGcMaxMs = monitor.gcMaxMs();
    const initialRssPeak = monitor.rssPeakBytes();
    const initialMs = initial.at - connecting.at;
    const initialAckedMs = Math.max(...initialEdsAcks, ...initialCdsAcks) - connecting.at;
    const connected = await settledMemory();
    const m1 = counters(server, protocol);

    // ONE change: the first endpoint of the first cluster moves.
    const changeStart = now();
    const first = resources.names[0] as string;
    const moved = encodedAssignment(first, ["10.255.255.1", ...addressesOf(0).slice(1)]);
    const v2 = createSnapshot({ resources: [...resources.clusters, moved, ...resources.assignments.slice(1)] });
    const changeSnapshotMs = now() - changeStart;
    // Delta responses carry the type's snapshot version as system_version_info,
    // so both protocols' clients recognise the change by it.
    const edsVersion = v2.typeVersion(TypeUrl.Endpoint);
    if (edsVersion === v1.typeVersion(TypeUrl.Endpoint)) throw new Error("the change did not change the EDS version");
    fleet.send({ type: "expect", typeUrl: TypeUrl.Endpoint, version: edsVersion });
    await fleet.next("armed", { timeoutMs });

    const profiler = options.cpuProfilePath === undefined ? undefined : await startCpuProfile();
    const cpu0 = process.cpuUsage();
    monitor.reset();
    const t0 = now();
    await cache.setSnapshot(groupKey, v2);
    const notifyMs = now() - t0;
    const [received, ackTimes] = await Promise.all([
      fleet.next("received", { timeoutMs }),
      acks.waitFor({ typeUrl: TypeUrl.Endpoint, version: edsVersion, count: clients, timeoutMs }),
    ]);
    const cpu = process.cpuUsage(cpu0);
    const changeLoopMaxMs = monitor.loopMaxMs();
    if (profiler && options.cpuProfilePath !== undefined) await profiler.stopTo(options.cpuProfilePath);
    // Let in-flight writes (there should be none) land before reading counters.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const change = minus(counters(server, protocol), m1);
    // Scraped after the CPU figure: what a scrape costs is Prometheus's schedule, not the change's.
    const convergence = registry === undefined ? undefined : await convergenceOf(registry);
    const statusAcked = server.status
      .nodes()
      .filter((n) => n.cacheKey === groupKey && n.types.some((t) => t.typeUrl === TypeUrl.Endpoint && t.ackedVersion === edsVersion)).length;

    return {
      protocol,
      clients,
      endpoints,
      setupMs: Math.round(setupMs),
      initialMs: Math.round(initialMs),
      changeSnapshotMs: Math.round(changeSnapshotMs * 10) / 10,
      notifyMs: Math.round(notifyMs * 10) / 10,
      receivedMs: distribution(received.at.map((at) => at - t0)),
      ackedMs: distribution(ackTimes.map((at) => at - t0)),
      changeCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      clientCpuMs: received.cpuMs,
      rssBaselineBytes: baseline.rss,
      rssConnectedBytes: connected.rss,
      rssPerStreamBytes: Math.round((connected.rss - baseline.rss) / clients),
      heapPerStreamBytes: Math.round((connected.heap - baseline.heap) / clients),
      rssPeakBytes: process.resourceUsage().maxRSS * 1024,
      changeBytesPerClient: Math.round(change.bytesWritten / clients),
      changeResourcesPerClient: range(received.resources),
      changeBytesReceivedPerClient: range(received.bytes),
      initial: minus(m1, m0),
      change,
      statusAcked,
      initialAckedMs: Math.round(initialAckedMs),
      initialCpuMs: Math.round((initialCpu.user + initialCpu.system) / 1000),
      initialClientCpuMs: initial.cpuMs,
      metrics: registry !== undefined,
      initialLoopMaxMs,
      initialGcMaxMs,
      initialRssPerStreamBytes: Math.round((initialRssPeak - baseline.rss) / clients),
      changeLoopMaxMs,
      ...(convergence === undefined ? {} : { convergence }),
    };
  } finally {
    monitor.stop();
    await fleet?.stop();
    await server.close({ graceMs: 200 });
  }
}

/** The convergence histogram as the run left it: only the change was timed (initial responses are subscriptions). */
async function convergenceOf(registry: Registry): Promise<{ count: number; p50Ms: number; p95Ms: number }> {
  const h = new PrometheusScrape(await registry.metrics()).histogram("xds_convergence_seconds");
  const ms = (seconds: number): number => Math.round(seconds * 10_000) / 10;
  return { count: h.count, p50Ms: ms(histogramQuantile(0.5, h)), p95Ms: ms(histogramQuantile(0.95, h)) };
}

/** The convergence figures, as the benchmarks' tables show them. */
export function convergenceCell(r: { readonly convergence?: ProtocolResult["convergence"] }): string {
  const c = r.convergence;
  return c === undefined ? "-" : `${c.p50Ms} / ${c.p95Ms} ms (${c.count})`;
}
