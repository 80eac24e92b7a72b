// What a snapshot set and the process itself cost, with nobody connected
// (`bash scripts/toolchain.sh node bench/snapshot-cost.ts`; issue 15 item 5).
//
// Drives bench/peer/ours-server.ts (the peer benchmark's server) over its
// stdin lines and prints:
// - start-up: spawn to the "ready" line (listening), median of --starts
//   processes, with Node's compile cache warm (a restart), cold (an empty
//   cache directory: the first start after a deploy) and off
//   (NODE_DISABLE_COMPILE_CACHE=1), split into what the child reports itself:
//   when its modules were loaded and when it listened (ms since its process
//   started), the rest being the spawn and the pipe;
// - set: building R fresh Clusters and R ClusterLoadAssignments and setting
//   them as a snapshot (`prepare initial R` + `apply`), median of --sets, the
//   first one alone (a fresh process: what bench/peer.ts times), and the
//   child's own split: building the messages, createSnapshot, setSnapshot;
// - the same set with a listener on the key (as a connected stream adds),
//   where setSnapshot encodes, hashes and diffs every fresh resource;
// - idle RSS: after a GC, before anything is set and with the R resources set
//   (and how much of it is JS heap in use, and allocated by V8);
// - the same, settled: after a last-resort GC (the server's `settle`), which
//   hands the freed heap pages back to the OS as V8's memory reducer does
//   once the process has been idle for some seconds; a regular GC leaves
//   them committed, so the figure above is mostly garbage not yet returned;
// - RSS after each of --updates all-changes (every resource rebuilt and set
//   again, then a GC; and settled): it must stay flat.
// Last, one JSON line for machines. --quick: R=50, few repetitions (the smoke test).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { positiveInt, runMain } from "./support/cli.ts";
import { LineProcess, rssBytes } from "./support/line-process.ts";
import { ms, textTable } from "./support/text-table.ts";

const server = fileURLToPath(new URL("./peer/ours-server.ts", import.meta.url));
const waitMs = 300_000;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

interface Start {
  readonly totalMs: number;
  readonly loadedMs: number;
  readonly listeningMs: number;
}

/** How the child's compile cache is set up: off, an empty directory (the first start after a deploy), or a directory a previous start filled. */
type CacheMode = "off" | "cold" | "warm";

async function start(env: NodeJS.ProcessEnv = process.env): Promise<{ proc: LineProcess; start: Start }> {
  const t0 = performance.now();
  const proc = new LineProcess("ours-server", process.execPath, [server], { waitMs, env });
  const [, loaded, listening] = await proc.next("ready");
  return { proc, start: { totalMs: performance.now() - t0, loadedMs: Number(loaded), listeningMs: Number(listening) } };
}

/** The server's heap figures (its `stats` line). */
async function heapStats(proc: LineProcess): Promise<HeapStats> {
  const [json] = await proc.command("stats", "stats");
  return JSON.parse(json ?? "{}") as HeapStats;
}

/** The server's `stats` line, the figures this benchmark reads. */
interface HeapStats {
  readonly heapUsedBytes?: number;
  readonly heapTotalBytes?: number;
  readonly arrayBuffersBytes?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      resources: { type: "string" },
      sets: { type: "string" },
      starts: { type: "string" },
      updates: { type: "string" },
    },
  });
  const quick = values.quick === true;
  const resources = positiveInt("resources", values.resources, quick ? 50 : 10_000);
  const sets = positiveInt("sets", values.sets, quick ? 2 : 7);
  const starts = positiveInt("starts", values.starts, quick ? 2 : 7);
  const updates = positiveInt("updates", values.updates, quick ? 3 : 40);

  // Alternate the modes, so a load spike on the shared machine hits all three.
  const startups: Record<CacheMode, Start[]> = { off: [], cold: [], warm: [] };
  const cacheRoot = mkdtempSync(join(tmpdir(), "snapshot-cost-cache-"));
  const warmDir = join(cacheRoot, "warm");
  try {
    for (let i = 0; i <= starts; i++) {
      const modes: Array<[CacheMode, NodeJS.ProcessEnv]> = [
        ["off", { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" }],
        ["cold", { ...process.env, NODE_COMPILE_CACHE: join(cacheRoot, `cold-${i}`) }],
        ["warm", { ...process.env, NODE_COMPILE_CACHE: warmDir }],
      ];
      for (const [mode, env] of modes) {
        const s = await start(env);
        // The first warm start fills the cache: it is a cold one, not counted.
        if (i > 0 || mode !== "warm") startups[mode].push(s.start);
        await s.proc.stop();
      }
    }
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
  const startupFigures = (mode: CacheMode) => ({
    totalMs: median(startups[mode].map((s) => s.totalMs)),
    loadedMs: median(startups[mode].map((s) => s.loadedMs)),
    listeningMs: median(startups[mode].map((s) => s.listeningMs)),
  });

  const { proc } = await start();
  try {
    await proc.command("gc", "gc");
    const rssEmpty = rssBytes(proc.pid);
    await proc.command("settle", "settled");
    const rssEmptySettled = rssBytes(proc.pid);
    const heapEmptySettled = await heapStats(proc);
    const setMs: number[] = [];
    const buildMs: number[] = [];
    const snapshotMs: number[] = [];
    const applyMs: number[] = [];
    for (let i = 0; i < sets; i++) {
      const t0 = performance.now();
      const [built, snapshot] = await proc.command(`prepare initial ${resources}`, "prepared");
      const [applied] = await proc.command("apply", "applied");
      setMs.push(performance.now() - t0);
      buildMs.push(Number(built));
      snapshotMs.push(Number(snapshot));
      applyMs.push(Number(applied));
    }
    await proc.command("gc", "gc");
    const rssIdle = rssBytes(proc.pid);
    const heap = await heapStats(proc);
    await proc.command("settle", "settled");
    const rssIdleSettled = rssBytes(proc.pid);
    const heapSettled = await heapStats(proc);
    // Then with a listener on the key (what a connected stream adds): every
    // set computes what changed, so every fresh resource is encoded and hashed.
    await proc.command("watch", "watching");
    const watchedMs: number[] = [];
    const watchedApplyMs: number[] = [];
    for (let i = 0; i < sets; i++) {
      const t0 = performance.now();
      await proc.command(`prepare initial ${resources}`, "prepared");
      const [applied] = await proc.command("apply", "applied");
      watchedMs.push(performance.now() - t0);
      watchedApplyMs.push(Number(applied));
    }
    const rssUpdates: number[] = [];
    const rssUpdatesSettled: number[] = [];
    for (let i = 0; i < updates; i++) {
      await proc.command("prepare all", "prepared");
      await proc.command("apply", "applied");
      await proc.command("gc", "gc");
      rssUpdates.push(rssBytes(proc.pid));
      await proc.command("settle", "settled");
      rssUpdatesSettled.push(rssBytes(proc.pid));
    }
    // What the last update left, settled: the JS heap and the Buffers
    // (encoded resources) beside it, steadier figures than RSS, which
    // malloc's free lists make vary by several MiB from run to run.
    const heapUpdated = updates > 0 ? await heapStats(proc) : {};

    const figures = {
      startup: { off: startupFigures("off"), cold: startupFigures("cold"), warm: startupFigures("warm") },
      setMs: median(setMs),
      setFirstMs: setMs[0] ?? 0,
      setBuildMs: median(buildMs),
      setCreateSnapshotMs: median(snapshotMs),
      setApplyMs: median(applyMs),
      watchedSetMs: median(watchedMs),
      watchedApplyMs: median(watchedApplyMs),
      idleRssEmptyBytes: rssEmpty,
      idleRssBytes: rssIdle,
      idleHeapUsedBytes: heap.heapUsedBytes ?? 0,
      idleHeapTotalBytes: heap.heapTotalBytes ?? 0,
      settledRssEmptyBytes: rssEmptySettled,
      settledHeapUsedEmptyBytes: heapEmptySettled.heapUsedBytes ?? 0,
      settledRssBytes: rssIdleSettled,
      settledHeapUsedBytes: heapSettled.heapUsedBytes ?? 0,
      settledHeapTotalBytes: heapSettled.heapTotalBytes ?? 0,
      updateRssBytes: rssUpdates,
      updateSettledRssBytes: rssUpdatesSettled,
      updatedHeapUsedBytes: heapUpdated.heapUsedBytes ?? 0,
      updatedArrayBuffersBytes: heapUpdated.arrayBuffersBytes ?? 0,
    };
    const rows = [
      ["figure", "value"],
      ...(["warm", "cold", "off"] as const).flatMap((mode) => [
        [`start-up, compile cache ${mode}: spawn to listening (median of ${startups[mode].length})`, ms(figures.startup[mode].totalMs)],
        ["  modules loaded / listening (ms since the child's start)", `${ms(figures.startup[mode].loadedMs)} / ${ms(figures.startup[mode].listeningMs)}`],
      ]),
      [`set: build ${resources} + ${resources} fresh messages and set them (median of ${sets})`, ms(figures.setMs)],
      ["  the first one, in a fresh process (what bench/peer.ts times)", ms(figures.setFirstMs)],
      ["  of which: building the messages (protobuf-es create)", ms(figures.setBuildMs)],
      ["  of which: createSnapshot", ms(figures.setCreateSnapshotMs)],
      ["  of which: setSnapshot", ms(figures.setApplyMs)],
      [`the same with a listener on the key (median of ${sets})`, ms(figures.watchedSetMs)],
      ["  of which: setSnapshot (encodes, hashes and diffs every resource)", ms(figures.watchedApplyMs)],
      ["idle RSS, nothing set", mib(rssEmpty)],
      [`idle RSS, ${resources} + ${resources} resources set`, mib(rssIdle)],
      ["  of which: JS heap used / allocated by V8", `${mib(figures.idleHeapUsedBytes)} / ${mib(figures.idleHeapTotalBytes)}`],
      ["idle RSS settled (after a last-resort GC), nothing set", mib(rssEmptySettled)],
      ["  of which: JS heap used", mib(figures.settledHeapUsedEmptyBytes)],
      [`idle RSS settled, ${resources} + ${resources} resources set`, mib(rssIdleSettled)],
      ["  of which: JS heap used / allocated by V8", `${mib(figures.settledHeapUsedBytes)} / ${mib(figures.settledHeapTotalBytes)}`],
      [`RSS after update 1 / ${updates}`, `${mib(rssUpdates[0] ?? 0)} / ${mib(rssUpdates.at(-1) ?? 0)}`],
      ["RSS min / max over the updates", `${mib(Math.min(...rssUpdates))} / ${mib(Math.max(...rssUpdates))}`],
      [`RSS settled after update 1 / ${updates}`, `${mib(rssUpdatesSettled[0] ?? 0)} / ${mib(rssUpdatesSettled.at(-1) ?? 0)}`],
      ["RSS settled min / max over the updates", `${mib(Math.min(...rssUpdatesSettled))} / ${mib(Math.max(...rssUpdatesSettled))}`],
      ["  after the last one: JS heap used / Buffers (arrayBuffers)", `${mib(figures.updatedHeapUsedBytes)} / ${mib(figures.updatedArrayBuffersBytes)}`],
    ];
    console.log(textTable(rows));
    console.log(`RSS after each update (MiB): ${rssUpdates.map((b) => (b / 1048576).toFixed(0)).join(" ")}`);
    console.log(`RSS settled after each update (MiB): ${rssUpdatesSettled.map((b) => (b / 1048576).toFixed(0)).join(" ")}`);
    console.log(JSON.stringify({ bench: "snapshot-cost", resources, sets, starts, updates, ...figures }));
  } finally {
    await proc.stop();
  }
}

runMain(import.meta, main);
