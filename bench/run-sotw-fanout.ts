// One run of the SotW fan-out benchmark: our server in this process, N lean
// ADS clients in a child process (so this process's RSS is the server's), one
// node group holding R EDS clusters and R load assignments; then ONE endpoint
// changes and we measure how long the fleet takes to receive and ACK it, what
// each stream costs in memory, and how many bytes were encoded versus written
// (xds-protocol.md § Cost: encode once, share the bytes).
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl } from "@ts-control-plane/xds";
import { AckTracker } from "./support/ack-tracker.ts";
import { startClientProcess, type ClientProcess } from "./client-process.ts";
import { addressesOf, encodedAssignment, fanoutResources } from "./support/fanout-resources.ts";

export interface FanoutOptions {
  readonly clients: number;
  readonly clusters: number;
  /** Bound on each wait (initial config, the change). */
  readonly timeoutMs: number;
  /** Writes a V8 CPU profile of the server process, from setSnapshot to the last ACK, to this file. */
  readonly cpuProfilePath?: string;
}

export interface EncodeCounters {
  readonly bodiesEncoded: number;
  readonly bodyBytesEncoded: number;
  readonly responsesWritten: number;
  readonly bytesWritten: number;
}

export interface Distribution {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface FanoutResult {
  readonly clients: number;
  readonly clusters: number;
  /** Encoding 2R resources and building the first snapshot. */
  readonly setupMs: number;
  /** From the client process opening its streams until every client had CDS and EDS (process start-up excluded). */
  readonly initialMs: number;
  /** Building the one-change snapshot (one resource re-encoded). */
  readonly changeSnapshotMs: number;
  /** Until setSnapshot resolved: every stream was told. */
  readonly notifyMs: number;
  /** Per client, from setSnapshot until it received the changed EDS response. */
  readonly receivedMs: Distribution;
  /** Per stream, from setSnapshot until the server saw its ACK. */
  readonly ackedMs: Distribution;
  /** Server CPU (user + system) spent from setSnapshot until the last ACK. */
  readonly changeCpuMs: number;
  /** CPU the client process spent until every client had the change (it shares the machine with the server). */
  readonly clientCpuMs: number;
  readonly rssBaselineBytes: number;
  readonly rssConnectedBytes: number;
  readonly rssPerStreamBytes: number;
  readonly heapPerStreamBytes: number;
  /** Server encode-once counters (server.metrics deltas) for the initial push to every client, and for the change. */
  readonly initial: EncodeCounters;
  readonly change: EncodeCounters;
  /** Nodes whose status shows the changed EDS version ACKed (should equal clients). */
  readonly statusAcked: number;
}

const now = (): number => performance.timeOrigin + performance.now();

/** A full GC when possible, so RSS and heap deltas are not garbage. */
const collect: () => void = (() => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;
  return gc ?? (() => {});
})();

async function settledMemory(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    collect();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** The in-process V8 profiler, so the profile covers the change only (not start-up or the initial push). */
async function startCpuProfile(): Promise<{ stopTo(path: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stopTo(path) {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(path, JSON.stringify(profile));
    },
  };
}

function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(at(1)) };
}

function minus(a: EncodeCounters, b: EncodeCounters): EncodeCounters {
  return {
    bodiesEncoded: a.bodiesEncoded - b.bodiesEncoded,
    bodyBytesEncoded: a.bodyBytesEncoded - b.bodyBytesEncoded,
    responsesWritten: a.responsesWritten - b.responsesWritten,
    bytesWritten: a.bytesWritten - b.bytesWritten,
  };
}

export async function runSotwFanout(options: FanoutOptions): Promise<FanoutResult> {
  const { clients, clusters, timeoutMs } = options;
  const groupKey = "bench";
  const acks = new AckTracker({ now });
  // Every client has its own node id; all share one node group (cache key), as
  // a fleet of identical proxies does.
  const cache = createSnapshotCache({ nodeKey: () => groupKey });
  const server = createXdsServer({ cache, controlPlaneId: "bench", hooks: { onAck: (e) => acks.onAck(e) } });
  let child: ClientProcess | undefined;
  try {
    const port = await server.listen({ host: "127.0.0.1", port: 0 });
    const setupStart = now();
    const resources = fanoutResources(clusters);
    const v1 = createSnapshot({ resources: [...resources.clusters, ...resources.assignments] });
    await cache.setSnapshot(groupKey, v1);
    const setupMs = now() - setupStart;
    const baseline = await settledMemory();
    const m0 = server.metrics;

    child = startClientProcess({ port, clients, clusters });
    const connecting = await child.next("connecting", { timeoutMs });
    const initial = await child.next("initial", { timeoutMs });
    await acks.waitFor({ typeUrl: TypeUrl.Endpoint, version: v1.typeVersion(TypeUrl.Endpoint), count: clients, timeoutMs });
    await acks.waitFor({ typeUrl: TypeUrl.Cluster, version: v1.typeVersion(TypeUrl.Cluster), count: clients, timeoutMs });
    const initialMs = initial.at - connecting.at;
    const connected = await settledMemory();
    const m1 = server.metrics;

    // ONE change: the first endpoint of the first cluster moves.
    const changeStart = now();
    const first = resources.names[0] as string;
    const moved = encodedAssignment(first, ["10.255.255.1", ...addressesOf(0).slice(1)]);
    const v2 = createSnapshot({ resources: [...resources.clusters, moved, ...resources.assignments.slice(1)] });
    const changeSnapshotMs = now() - changeStart;
    const edsVersion = v2.typeVersion(TypeUrl.Endpoint);
    if (edsVersion === v1.typeVersion(TypeUrl.Endpoint)) throw new Error("the change did not change the EDS version");
    child.send({ type: "expect", typeUrl: TypeUrl.Endpoint, version: edsVersion });
    await child.next("armed", { timeoutMs });

    const profiler = options.cpuProfilePath === undefined ? undefined : await startCpuProfile();
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await cache.setSnapshot(groupKey, v2);
    const notifyMs = now() - t0;
    const [received, ackTimes] = await Promise.all([
      child.next("received", { timeoutMs }),
      acks.waitFor({ typeUrl: TypeUrl.Endpoint, version: edsVersion, count: clients, timeoutMs }),
    ]);
    const cpu = process.cpuUsage(cpu0);
    if (profiler && options.cpuProfilePath !== undefined) await profiler.stopTo(options.cpuProfilePath);
    // Let in-flight writes (there should be none) land before reading counters.
    await sleep(100);
    const m2 = server.metrics;
    const statusAcked = server.status
      .nodes()
      .filter((n) => n.cacheKey === groupKey && n.types.some((t) => t.typeUrl === TypeUrl.Endpoint && t.ackedVersion === edsVersion)).length;

    return {
      clients,
      clusters,
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
      initial: minus(m1, m0),
      change: minus(m2, m1),
      statusAcked,
    };
  } finally {
    await child?.stop();
    await server.close({ graceMs: 200 });
  }
}
