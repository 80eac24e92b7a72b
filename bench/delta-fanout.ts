// Delta versus SotW fan-out benchmark (issue 3):
//   node bench/delta-fanout.ts [--protocol delta|sotw|both] [--clients N]
//     [--sotw-clients N] [--endpoints R] [--quick] [--timeout-ms T] [--cpu-profile PREFIX] [--metrics]
//     [--max-initial-syncs K] (the server's admission control of initial syncs; 0 turns it off)
// Defaults: both protocols, N = 1000, R = 10000; --quick: N = 4, R = 20.
//
// Shape: one node group (every client has its own node id, all share one cache
// key) holding R EDS clusters, each with its ClusterLoadAssignment of two
// endpoints. Every client opens one ADS stream on its own HTTP/2 connection,
// subscribes to CDS by wildcard and to EDS by the R cluster names, and ACKs
// every response. Once all have ACKed the initial config, ONE endpoint of one
// cluster moves. Delta sends that one assignment to each client; SotW resends
// all R. Same server, same options for both; only the clients differ.
//
// Each protocol runs in its own server process (support/fanout-protocol-main.ts)
// with its clients in a grandchild (support/fleet-clients.ts), so the server's
// RSS is its own and not what the other protocol's run left behind. Prints a
// side-by-side table for people and, last, one JSON line for machines.
import { parseArgs } from "node:util";
import { nonNegativeInt, positiveInt, runMain } from "./support/cli.ts";
import type { FleetProtocol } from "./support/fleet-clients.ts";
import type { ProtocolChildMessage, ProtocolParentMessage } from "./support/fanout-protocol-main.ts";
import { forkProcess } from "./support/forked-process.ts";
import { convergenceCell, type EncodeCounters, type ProtocolResult } from "./support/run-fanout-protocol.ts";
import { textTable } from "./support/text-table.ts";

const full = { clients: 1000, endpoints: 10_000 };
const quick = { clients: 4, endpoints: 20 };

export interface Options {
  readonly protocols: readonly FleetProtocol[];
  readonly clients: number;
  readonly sotwClients: number;
  readonly endpoints: number;
  readonly timeoutMs: number;
  readonly quick: boolean;
  /** Per protocol, a V8 CPU profile of the server during the change: `<prefix>-delta.cpuprofile`, `<prefix>-sotw.cpuprofile`. */
  readonly cpuProfilePrefix?: string;
  /** Attach the prom-client metrics to the server (their cost shows in the CPU figures; the convergence histogram is reported). */
  readonly metrics: boolean;
  /** The server's maxInitialSyncs (`--max-initial-syncs`, 0 off); the library's default when absent. */
  readonly maxInitialSyncs?: number;
}

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      protocol: { type: "string", default: "both" },
      clients: { type: "string" },
      "sotw-clients": { type: "string" },
      endpoints: { type: "string" },
      "timeout-ms": { type: "string" },
      quick: { type: "boolean", default: false },
      "cpu-profile": { type: "string" },
      metrics: { type: "boolean", default: false },
      "max-initial-syncs": { type: "string" },
    },
  });
  const protocol = values.protocol;
  if (protocol !== "delta" && protocol !== "sotw" && protocol !== "both") throw new Error(`--protocol must be delta, sotw or both, got ${JSON.stringify(protocol)}`);
  const isQuick = values.quick === true;
  const clients = positiveInt("clients", values.clients, isQuick ? quick.clients : full.clients);
  return {
    protocols: protocol === "both" ? ["delta", "sotw"] : [protocol],
    clients,
    // SotW resends all R assignments to every client (at N=1000, R=10000:
    // 1.4 GiB written for one change, ~6 GiB peak server RSS, ~3.5 minutes on
    // 2 cores). That fits, so by default SotW runs with as many clients as
    // Delta; --sotw-clients makes it smaller on smaller machines.
    sotwClients: positiveInt("sotw-clients", values["sotw-clients"], clients),
    endpoints: positiveInt("endpoints", values.endpoints, isQuick ? quick.endpoints : full.endpoints),
    timeoutMs: positiveInt("timeout-ms", values["timeout-ms"], isQuick ? 30_000 : 600_000),
    quick: isQuick,
    metrics: values.metrics === true,
    ...(values["max-initial-syncs"] === undefined ? {} : { maxInitialSyncs: nonNegativeInt("max-initial-syncs", values["max-initial-syncs"]) }),
    ...(values["cpu-profile"] === undefined ? {} : { cpuProfilePrefix: values["cpu-profile"] }),
  };
}

async function runProtocol(protocol: FleetProtocol, clients: number, options: Options): Promise<ProtocolResult> {
  const child = forkProcess<ProtocolParentMessage, ProtocolChildMessage>(
    new URL("./support/fanout-protocol-main.ts", import.meta.url),
    ["--protocol", protocol, "--clients", String(clients), "--endpoints", String(options.endpoints), "--timeout-ms", String(options.timeoutMs), ...(options.cpuProfilePrefix === undefined ? [] : ["--cpu-profile", `${options.cpuProfilePrefix}-${protocol}.cpuprofile`]), ...(options.metrics ? ["--metrics"] : []), ...(options.maxInitialSyncs === undefined ? [] : ["--max-initial-syncs", String(options.maxInitialSyncs)])],
    { exitMessage: { type: "exit" } },
  );
  try {
    // Bounded by the run's own waits (initial config and the change), plus set-up.
    return (await child.next("result", { timeoutMs: 3 * options.timeoutMs })).result;
  } finally {
    await child.stop();
  }
}

/** Bytes in the largest unit that keeps at least 1 before the point. */
function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let n = bytes;
  let u = 0;
  while (Math.abs(n) >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}
const ms = (n: number): string => `${n} ms`;
const spread = (r: { min: number; max: number }, unit: (n: number) => string): string => (r.min === r.max ? unit(r.min) : `${unit(r.min)}-${unit(r.max)}`);
const encoded = (c: EncodeCounters): string => `${c.bodiesEncoded} (${size(c.bodyBytesEncoded)})`;
const written = (c: EncodeCounters): string => `${c.responsesWritten} (${size(c.bytesWritten)})`;
const ratio = (c: EncodeCounters): string => (c.bodyBytesEncoded > 0 ? `${(c.bytesWritten / c.bodyBytesEncoded).toFixed(1)}x` : "-");

export function formatResults(results: readonly ProtocolResult[]): string {
  const rows: Array<[string, (r: ProtocolResult) => string]> = [
    ["clients (one HTTP/2 connection each)", (r) => String(r.clients)],
    ["setup (encode 2R resources, first snapshot)", (r) => ms(r.setupMs)],
    ["initial config to every client", (r) => ms(r.initialMs)],
    ["initial: server CPU until every initial ACK", (r) => ms(r.initialCpuMs)],
    ["initial: client process CPU", (r) => ms(r.initialClientCpuMs)],
    ["initial: longest event-loop block (longest GC pause)", (r) => `${ms(r.initialLoopMaxMs)} (${ms(r.initialGcMaxMs)})`],
    ["initial: peak RSS during the sync per stream", (r) => size(r.initialRssPerStreamBytes)],
    ["change: build snapshot (1 endpoint moved)", (r) => ms(r.changeSnapshotMs)],
    ["change: setSnapshot resolved (all streams notified)", (r) => ms(r.notifyMs)],
    ["change: received, p50 / p99 / max", (r) => `${r.receivedMs.p50} / ${r.receivedMs.p99} / ${r.receivedMs.max} ms`],
    ["change: ACKed, p50 / p99 / max", (r) => `${r.ackedMs.p50} / ${r.ackedMs.p99} / ${r.ackedMs.max} ms`],
    ["change: resources sent per client", (r) => spread(r.changeResourcesPerClient, String)],
    ["change: bytes written per client (server)", (r) => size(r.changeBytesPerClient)],
    ["change: message bytes received per client", (r) => spread(r.changeBytesReceivedPerClient, size)],
    ["change: server CPU until last ACK", (r) => ms(r.changeCpuMs)],
    ["change: longest event-loop block", (r) => ms(r.changeLoopMaxMs)],
    ["change: server CPU per client", (r) => `${((r.changeCpuMs / r.clients) * 1000).toFixed(0)} us`],
    ["change: client process CPU until all received", (r) => ms(r.clientCpuMs)],
    ["change: bodies/wrappers encoded (bytes)", (r) => encoded(r.change)],
    ["change: responses written (bytes)", (r) => written(r.change)],
    ["change: written / encoded", (r) => ratio(r.change)],
    ["initial: bodies/wrappers encoded (bytes)", (r) => encoded(r.initial)],
    ["initial: responses written (bytes)", (r) => written(r.initial)],
    ["initial: written / encoded", (r) => ratio(r.initial)],
    ["server RSS before clients / with clients", (r) => `${size(r.rssBaselineBytes)} / ${size(r.rssConnectedBytes)}`],
    ["server RSS per stream", (r) => size(r.rssPerStreamBytes)],
    ["server JS heap per stream", (r) => size(r.heapPerStreamBytes)],
    ["server peak RSS", (r) => size(r.rssPeakBytes)],
    ["nodes whose status shows the change ACKed", (r) => `${r.statusAcked} / ${r.clients}`],
    ["metrics attached", (r) => (r.metrics ? "yes" : "no")],
    ...(results.some((r) => r.convergence !== undefined)
      ? ([["change: convergence to ACK (histogram p50 / p95, count)", (r) => convergenceCell(r)]] as Array<[string, (r: ProtocolResult) => string]>)
      : []),
  ];
  const endpoints = results[0]?.endpoints ?? 0;
  return [
    `ADS fan-out of ONE endpoint change: ${endpoints} EDS clusters, each with its ClusterLoadAssignment (CDS wildcard, EDS subscribed by name), one node group`,
    "SotW bodies are whole responses; Delta \"bodies\" are Resource wrappers (encoded once per resource version)",
    "",
    textTable([["measure", ...results.map((r) => r.protocol === "delta" ? "Delta ADS" : "SotW ADS")], ...rows.map(([label, cell]) => [label, ...results.map(cell)])]),
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const results: ProtocolResult[] = [];
  for (const protocol of options.protocols) {
    const clients = protocol === "sotw" ? options.sotwClients : options.clients;
    console.error(`[delta-fanout] ${protocol}: ${clients} clients, ${options.endpoints} clusters and load assignments ...`);
    results.push(await runProtocol(protocol, clients, options));
  }
  console.log(formatResults(results));
  const byProtocol = Object.fromEntries(results.map((r) => [r.protocol, r]));
  console.log(JSON.stringify({ bench: "delta-fanout", quick: options.quick, node: process.version, endpoints: options.endpoints, ...byProtocol }));
  if (results.some((r) => r.statusAcked !== r.clients)) process.exitCode = 1;
}

runMain(import.meta, main);
