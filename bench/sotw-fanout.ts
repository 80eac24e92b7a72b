// SotW fan-out benchmark: `npm run bench -- [--clients N] [--clusters R] [--quick]
// [--timeout-ms T] [--cpu-profile server-change.cpuprofile] [--metrics]`.
// --metrics attaches the prom-client metrics (their cost shows in the CPU
// figures) and reports the change's convergence histogram.
// Defaults: N = 100, R = 1000; --quick: N = 4, R = 20.
//
// The SotW run of the fan-out harness that delta-fanout.ts also uses
// (support/run-fanout-protocol.ts): our server in this process, N lean SotW
// ADS clients in a child (support/fleet-clients.ts), one node group holding R
// EDS clusters and R load assignments; ONE endpoint moves. Prints a table for
// people and, last, one JSON line for machines.
import { parseArgs } from "node:util";
import { positiveInt, runMain } from "./support/cli.ts";
import { convergenceCell, runFanoutProtocol, type EncodeCounters, type ProtocolResult } from "./support/run-fanout-protocol.ts";
import { textTable } from "./support/text-table.ts";

const quick = { clients: 4, clusters: 20 };

function parseOptions(argv: readonly string[]): { clients: number; clusters: number; timeoutMs: number; quick: boolean; metrics: boolean; cpuProfilePath?: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      clients: { type: "string" },
      clusters: { type: "string" },
      "timeout-ms": { type: "string" },
      quick: { type: "boolean", default: false },
      "cpu-profile": { type: "string" },
      metrics: { type: "boolean", default: false },
    },
  });
  const isQuick = values.quick === true;
  return {
    quick: isQuick,
    metrics: values.metrics === true,
    clients: positiveInt("clients", values.clients, isQuick ? quick.clients : 100),
    clusters: positiveInt("clusters", values.clusters, isQuick ? quick.clusters : 1000),
    timeoutMs: positiveInt("timeout-ms", values["timeout-ms"], isQuick ? 30_000 : 300_000),
    ...(values["cpu-profile"] === undefined ? {} : { cpuProfilePath: values["cpu-profile"] }),
  };
}

export interface FanoutOptions {
  readonly clients: number;
  readonly clusters: number;
  /** Bound on each wait (initial config, the change). */
  readonly timeoutMs: number;
  /** Writes a V8 CPU profile of the server, from setSnapshot to the last ACK, to this file. */
  readonly cpuProfilePath?: string;
  /** Attach the prom-client metrics to the server. */
  readonly metrics?: boolean;
}

/** What this benchmark reports; its JSON line keeps these keys, in this order. See ProtocolResult for each figure. */
export type FanoutResult = { readonly clients: number; readonly clusters: number } & Omit<
  ProtocolResult,
  "protocol" | "clients" | "endpoints" | "rssPeakBytes" | "changeBytesPerClient" | "changeResourcesPerClient" | "changeBytesReceivedPerClient" | "initialAckedMs" | "initialCpuMs"
>;

/**
 * The SotW run of the fan-out harness (support/run-fanout-protocol.ts), with
 * the server in this process: R clusters are its R "endpoints".
 */
export async function runSotwFanout(options: FanoutOptions): Promise<FanoutResult> {
  const r: ProtocolResult = await runFanoutProtocol({
    protocol: "sotw",
    clients: options.clients,
    endpoints: options.clusters,
    timeoutMs: options.timeoutMs,
    ...(options.cpuProfilePath === undefined ? {} : { cpuProfilePath: options.cpuProfilePath }),
    metrics: options.metrics === true,
  });
  // Everything but what only the Delta comparison shows, in the harness's order.
  // initialAckedMs and initialCpuMs are mtls-connect.ts's figures.
  const { protocol, clients, endpoints, rssPeakBytes, changeBytesPerClient, changeResourcesPerClient, changeBytesReceivedPerClient, initialAckedMs, initialCpuMs, ...figures } = r;
  return { clients, clusters: endpoints, ...figures };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function bytesRow(phase: string, c: EncodeCounters): string[] {
  const ratio = c.bodyBytesEncoded > 0 ? (c.bytesWritten / c.bodyBytesEncoded).toFixed(1) : "-";
  return [phase, String(c.bodiesEncoded), kib(c.bodyBytesEncoded), String(c.responsesWritten), kib(c.bytesWritten), `${ratio}x`];
}

export function formatResult(r: FanoutResult): string {
  const ms = (n: number): string => `${n} ms`;
  return [
    `SotW ADS fan-out: ${r.clients} clients (one connection each, one node group), ${r.clusters} EDS clusters + ${r.clusters} load assignments`,
    "",
    textTable([
      ["measure", "value"],
      ["setup (encode 2R resources, first snapshot)", ms(r.setupMs)],
      ["initial config to every client", ms(r.initialMs)],
      ["initial: client process CPU", ms(r.initialClientCpuMs)],
      ["initial: longest event-loop block (longest GC pause)", `${ms(r.initialLoopMaxMs)} (${ms(r.initialGcMaxMs)})`],
      ["initial: peak RSS during the sync per stream", kib(r.initialRssPerStreamBytes)],
      ["change: build snapshot (1 endpoint moved)", ms(r.changeSnapshotMs)],
      ["change: setSnapshot resolved (all streams notified)", ms(r.notifyMs)],
      ["change: received by all clients (p50 / p99 / max)", `${r.receivedMs.p50} / ${r.receivedMs.p99} / ${r.receivedMs.max} ms`],
      ["change: ACKed by all clients (p50 / p99 / max)", `${r.ackedMs.p50} / ${r.ackedMs.p99} / ${r.ackedMs.max} ms`],
      ["change: server CPU until last ACK", ms(r.changeCpuMs)],
      ["change: longest event-loop block", ms(r.changeLoopMaxMs)],
      ["change: client process CPU until all received", ms(r.clientCpuMs)],
      ["server RSS before clients / with clients", `${mib(r.rssBaselineBytes)} / ${mib(r.rssConnectedBytes)}`],
      ["server RSS per connected stream", kib(r.rssPerStreamBytes)],
      ["server JS heap per connected stream", kib(r.heapPerStreamBytes)],
      ["nodes whose status shows the change ACKed", `${r.statusAcked} / ${r.clients}`],
      ["metrics attached", r.metrics ? "yes" : "no"],
      ...(r.convergence === undefined ? [] : [["change: convergence to ACK (histogram p50 / p95, count)", convergenceCell(r)]]),
    ]),
    "",
    textTable([
      ["phase", "bodies encoded", "body bytes encoded", "responses written", "bytes written", "written/encoded"],
      bytesRow("initial", r.initial),
      bytesRow("change", r.change),
    ]),
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const result = await runSotwFanout(options);
  console.log(formatResult(result));
  console.log(JSON.stringify({ bench: "sotw-fanout", quick: options.quick, node: process.version, ...result }));
  if (result.statusAcked !== result.clients) process.exitCode = 1;
}

runMain(import.meta, main);
