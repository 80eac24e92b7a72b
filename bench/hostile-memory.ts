// Hostile-client memory benchmark: `bash scripts/toolchain.sh node bench/hostile-memory.ts
// [--nodes N] [--metadata-kib K] [--oversized M] [--quick]`.
// Defaults: N = 1000 nodes with K = 64 KiB of metadata, M = 100 oversized nodes;
// --quick: N = 20, K = 16, M = 5.
//
// Our xDS server in this process with its default limits (maxNodeBytes,
// StatusRegistry's maxDisconnected, CSDS maxNodes / maxResponseBytes:
// docs/xds-protocol.md § Bounded memory), the hostile clients in a child
// (support/hostile-clients.ts). For each case it prints the server's JS heap
// (after a forced GC) and RSS before and after:
//   1. N SotW nodes with K KiB of metadata each connect, then all disconnect;
//   2. M Delta nodes whose node is over maxNodeBytes try to connect;
//   3. N more SotW nodes (1 KiB of metadata) stay connected, and CSDS is asked
//      for all 2N nodes (refused: over maxNodes), then page by page (node id prefix).
// Prints a table for people and, last, one JSON line for machines.
import v8 from "node:v8";
import vm from "node:vm";
import { parseArgs } from "node:util";
import { createLinearCache, createXdsServer, defaultCsdsLimits, TypeUrl } from "@ts-control-plane/xds";
import { endpoints } from "@ts-control-plane/xds/testing";
import { positiveInt, runMain } from "./support/cli.ts";
import { forkProcess } from "./support/forked-process.ts";
import type { HostileChildMessage, HostileParentMessage } from "./support/hostile-clients.ts";
import { textTable } from "./support/text-table.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

interface Memory {
  readonly heapBytes: number;
  readonly rssBytes: number;
}

function measure(): Memory {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapBytes: m.heapUsed, rssBytes: m.rss };
}

/** One case: memory before and after, and what happened. */
export interface HostileCase {
  readonly name: string;
  readonly before: Memory;
  readonly after: Memory;
  /** Memory while the nodes were connected, when it differs from after. */
  readonly during?: Memory;
  readonly outcome: string;
}

export interface HostileResult {
  readonly nodes: number;
  readonly metadataBytes: number;
  readonly oversized: number;
  readonly limits: { readonly maxNodeBytes: number; readonly maxDisconnected: number; readonly csdsMaxNodes: number; readonly csdsMaxResponseBytes: number };
  readonly cases: readonly HostileCase[];
  readonly statusRecords: number;
  readonly slimRecords: number;
}

const maxNodeBytes = 256 * 1024;
const maxDisconnected = 10_000;

export async function runHostileMemory(options: { nodes: number; metadataKib: number; oversized: number }): Promise<HostileResult> {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("e1")] });
  const server = createXdsServer({ cache });
  const port = await server.listen({ port: 0 });
  const child = forkProcess<HostileParentMessage, HostileChildMessage>(new URL("./support/hostile-clients.ts", import.meta.url), [String(port)], {
    exitMessage: { type: "exit" },
  });
  const timeoutMs = 300_000;
  const cases: HostileCase[] = [];
  const metadataBytes = options.metadataKib * 1024;
  try {
    const connect = async (variant: "sotw" | "delta", prefix: string, count: number, bytes: number) => {
      child.send({ type: "connect", variant, prefix, count, metadataBytes: bytes });
      return child.next("connected", { timeoutMs });
    };
    const disconnect = async () => {
      child.send({ type: "disconnect" });
      await child.next("disconnected", { timeoutMs });
      for (let i = 0; i < 1000 && server.metrics.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100)); // gRPC releases finished calls on a later turn
    };
    // Warm-up: what is allocated once (code, gRPC and protobuf internals) is not the nodes' doing.
    await connect("sotw", "warm-", 5, 1024);
    await disconnect();
    server.status.pruneDisconnected();

    // 1. Large metadata, many nodes, connect and leave.
    let before = measure();
    const c1 = await connect("sotw", "a-", options.nodes, metadataBytes);
    const during = measure();
    await disconnect();
    cases.push({
      name: `1. ${options.nodes} SotW nodes x ${options.metadataKib} KiB metadata connect, then disconnect`,
      before,
      during,
      after: measure(),
      outcome: `${c1.served} served, ${c1.refused} refused; ${server.status.nodes().filter((n) => n.node === undefined).length} slim records kept`,
    });

    // 2. Nodes over maxNodeBytes.
    before = measure();
    const c2 = await connect("delta", "big-", options.oversized, maxNodeBytes + 64 * 1024);
    await disconnect();
    cases.push({
      name: `2. ${options.oversized} Delta nodes x ${(maxNodeBytes + 64 * 1024) / 1024} KiB metadata (over maxNodeBytes)`,
      before,
      after: measure(),
      outcome: `${c2.served} served, ${c2.refused} refused ("${c2.details.slice(0, 60)}...")`,
    });

    // 3. CSDS over many nodes: N disconnected (case 1) + N connected.
    const c3 = await connect("sotw", "b-", options.nodes, 1024);
    before = measure();
    child.send({ type: "csds" });
    const all = await child.next("csds", { timeoutMs });
    const pages: Array<Extract<HostileChildMessage, { type: "csds" }>> = [];
    const pageStarted = process.hrtime.bigint();
    for (const prefix of ["a-", "b-"]) {
      child.send({ type: "csds", prefix });
      pages.push(await child.next("csds", { timeoutMs }));
    }
    const pageMs = Number(process.hrtime.bigint() - pageStarted) / 1e6;
    cases.push({
      name: `3. CSDS for ${server.status.nodes().length} nodes (${c3.served} connected), exclude_resource_contents`,
      before,
      after: measure(),
      outcome:
        `all at once: ${all.code === undefined ? `${all.nodes} nodes, ${all.bytes} bytes` : `refused (code ${all.code}: "${(all.details ?? "").slice(0, 50)}...")`}; ` +
        `by prefix: ${pages.map((p) => (p.code === undefined ? `${p.nodes} nodes / ${p.bytes} bytes` : `refused ${p.code}`)).join(", ")} in ${pageMs.toFixed(0)} ms`,
    });
    await disconnect();
    const records = server.status.nodes();
    return {
      nodes: options.nodes,
      metadataBytes,
      oversized: options.oversized,
      limits: { maxNodeBytes, maxDisconnected, csdsMaxNodes: defaultCsdsLimits.maxNodes, csdsMaxResponseBytes: defaultCsdsLimits.maxResponseBytes },
      cases,
      statusRecords: records.length,
      slimRecords: records.filter((n) => n.node === undefined).length,
    };
  } finally {
    await child.stop();
    await server.close({ graceMs: 200 });
  }
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const delta = (a: number, b: number): string => `${b >= a ? "+" : ""}${((b - a) / 1024 / 1024).toFixed(1)} MiB`;

export function formatResult(r: HostileResult): string {
  const rows = r.cases.map((c) => [
    c.name,
    mib(c.before.heapBytes),
    c.during ? `${mib(c.during.heapBytes)} (${delta(c.before.heapBytes, c.during.heapBytes)})` : "-",
    `${mib(c.after.heapBytes)} (${delta(c.before.heapBytes, c.after.heapBytes)})`,
    `${mib(c.before.rssBytes)} -> ${mib(c.after.rssBytes)}`,
  ]);
  return [
    `Hostile clients: limits maxNodeBytes ${r.limits.maxNodeBytes}, maxDisconnected ${r.limits.maxDisconnected}, CSDS maxNodes ${r.limits.csdsMaxNodes} / maxResponseBytes ${r.limits.csdsMaxResponseBytes}`,
    "",
    textTable([["case", "heap before", "heap connected", "heap after", "RSS before -> after"], ...rows]),
    "",
    ...r.cases.map((c) => `${c.name.slice(0, 2)} ${c.outcome}`),
    `status at the end: ${r.statusRecords} records, ${r.slimRecords} of them slim (no node metadata)`,
  ].join("\n");
}

function parseOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: { nodes: { type: "string" }, "metadata-kib": { type: "string" }, oversized: { type: "string" }, quick: { type: "boolean", default: false } },
  });
  const quick = values.quick === true;
  return {
    quick,
    nodes: positiveInt("nodes", values.nodes, quick ? 20 : 1000),
    metadataKib: positiveInt("metadata-kib", values["metadata-kib"], quick ? 16 : 64),
    oversized: positiveInt("oversized", values.oversized, quick ? 5 : 100),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const result = await runHostileMemory(options);
  console.log(formatResult(result));
  console.log(JSON.stringify({ bench: "hostile-memory", quick: options.quick, node: process.version, ...result }));
}

runMain(import.meta, main);
