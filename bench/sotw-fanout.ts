// SotW fan-out benchmark: `npm run bench -- [--clients N] [--clusters R] [--quick]
// [--timeout-ms T] [--cpu-profile server-change.cpuprofile]`.
// Prints a table for people and, last, one JSON line for machines.
import { parseArgs } from "node:util";
import { runSotwFanout, type EncodeCounters, type FanoutResult } from "./run-sotw-fanout.ts";

const quick = { clients: 4, clusters: 20 };

function parseOptions(argv: readonly string[]): { clients: number; clusters: number; timeoutMs: number; quick: boolean; cpuProfilePath?: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      clients: { type: "string" },
      clusters: { type: "string" },
      "timeout-ms": { type: "string" },
      quick: { type: "boolean", default: false },
      "cpu-profile": { type: "string" },
    },
  });
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  const isQuick = values.quick === true;
  return {
    quick: isQuick,
    clients: int("clients", values.clients, isQuick ? quick.clients : 100),
    clusters: int("clusters", values.clusters, isQuick ? quick.clusters : 1000),
    timeoutMs: int("timeout-ms", values["timeout-ms"], isQuick ? 30_000 : 300_000),
    ...(values["cpu-profile"] === undefined ? {} : { cpuProfilePath: values["cpu-profile"] }),
  };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function bytesRow(phase: string, c: EncodeCounters): string[] {
  const ratio = c.bodyBytesEncoded > 0 ? (c.bytesWritten / c.bodyBytesEncoded).toFixed(1) : "-";
  return [phase, String(c.bodiesEncoded), kib(c.bodyBytesEncoded), String(c.responsesWritten), kib(c.bytesWritten), `${ratio}x`];
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n");
}

export function formatResult(r: FanoutResult): string {
  const ms = (n: number): string => `${n} ms`;
  return [
    `SotW ADS fan-out: ${r.clients} clients (one connection each, one node group), ${r.clusters} EDS clusters + ${r.clusters} load assignments`,
    "",
    table([
      ["measure", "value"],
      ["setup (encode 2R resources, first snapshot)", ms(r.setupMs)],
      ["initial config to every client", ms(r.initialMs)],
      ["change: build snapshot (1 endpoint moved)", ms(r.changeSnapshotMs)],
      ["change: setSnapshot resolved (all streams notified)", ms(r.notifyMs)],
      ["change: received by all clients (p50 / p99 / max)", `${r.receivedMs.p50} / ${r.receivedMs.p99} / ${r.receivedMs.max} ms`],
      ["change: ACKed by all clients (p50 / p99 / max)", `${r.ackedMs.p50} / ${r.ackedMs.p99} / ${r.ackedMs.max} ms`],
      ["change: server CPU until last ACK", ms(r.changeCpuMs)],
      ["change: client process CPU until all received", ms(r.clientCpuMs)],
      ["server RSS before clients / with clients", `${mib(r.rssBaselineBytes)} / ${mib(r.rssConnectedBytes)}`],
      ["server RSS per connected stream", kib(r.rssPerStreamBytes)],
      ["server JS heap per connected stream", kib(r.heapPerStreamBytes)],
      ["nodes whose status shows the change ACKed", `${r.statusAcked} / ${r.clients}`],
    ]),
    "",
    table([
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

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
