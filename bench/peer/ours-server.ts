// Our side of the peer benchmark (bench/peer.ts): an ADS server over
// createSnapshotCache / createXdsServer, serving the same resources as the
// go-control-plane harness (bench/peer/gcp-server/main.go: same names, counts
// and fields) and driven by the same stdin lines:
//
//   prepare initial R | prepare all | prepare one  ->  prepared <build ms> <createSnapshot ms>
//   apply                                          ->  applied <ms>
//   watch                                          ->  watching (a no-op listener on the key, from now on)
//   gc                                             ->  gc
//   settle                                         ->  settled (a last-resort GC: what V8's memory reducer reaches after seconds idle)
//   stats                                          ->  stats {"eventLoopMaxMs":…,"heapUsedBytes":…,"heapTotalBytes":…,"arrayBuffersBytes":…}  (and resets the monitor)
//
// It prints "ready <port> <loaded> <listening>" once listening on 127.0.0.1 (an ephemeral port);
// <loaded> and <listening> are milliseconds since the process started
// (performance.now()): when every module was loaded, and when it listened.
// Every node shares one cache key, as a fleet of identical proxies does.
//
// Node's compile cache is on (module.enableCompileCache: the type-stripped
// and compiled modules are kept on disk, in NODE_COMPILE_CACHE or the OS
// temp dir), as a deployed control plane should run: a restart then skips
// stripping and compiling about 400 modules. NODE_DISABLE_COMPILE_CACHE=1
// turns it off; bench/snapshot-cost.ts times start-up without it, with an
// empty cache and with a warm one.
import { enableCompileCache } from "node:module";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Message } from "@bufbuild/protobuf";
import type { Snapshot } from "@ts-control-plane/xds";

// Before the library and the Envoy types load: a static import would load
// them before this module's body runs.
enableCompileCache();
const { createSnapshot, createSnapshotCache, createXdsServer } = await import("@ts-control-plane/xds");
const { addressesOf, assignmentMessage, clusterMessage, clusterNames } = await import("../support/fanout-resources.ts");

// Every module is loaded: the module loading time.
const loadedMs = performance.now();
const groupKey = "bench";

/** The first endpoint of cluster 0 after one-change number n (resources.MovedAddress in the Go harness). */
const movedAddress = (n: number): string => `10.255.255.${1 + (n % 250)}`;

// Fresh messages, as the Go harness builds them, handed to createSnapshot,
// which encodes them. The messages are kept: an all-change builds (and so
// encodes) all anew, a one-change builds one, as a control plane that keeps
// its unchanged messages does.
let names: string[] = [];
let clusters: Message[] = [];
let assignments: Message[] = [];
let generation = 0;
let moves = 0;
let prepared: Snapshot | undefined;

function assignment(i: number): Message {
  const addresses = addressesOf(i);
  if (i === 0 && moves > 0) addresses[0] = movedAddress(moves);
  return assignmentMessage(names[i] as string, addresses, { generation });
}

/** Builds the messages and the snapshot; returns how long each took (ms). */
function prepare(words: readonly string[]): [number, number] {
  const t0 = performance.now();
  if (words[1] === "initial" && words.length === 3) {
    names = clusterNames(Number(words[2]));
    clusters = names.map((n) => clusterMessage(n, { generation }));
    assignments = names.map((_, i) => assignment(i));
  } else if (words[1] === "all" && words.length === 2) {
    generation++;
    clusters = names.map((n) => clusterMessage(n, { generation }));
    assignments = names.map((_, i) => assignment(i));
  } else if (words[1] === "one" && words.length === 2) {
    moves++;
    assignments[0] = assignment(0);
  } else {
    throw new Error(`unknown prepare ${JSON.stringify(words.join(" "))}`);
  }
  const t1 = performance.now();
  prepared = createSnapshot({ resources: [...clusters, ...assignments] });
  return [t1 - t0, performance.now() - t1];
}

setFlagsFromString("--expose-gc");
/** V8's gc() (--expose-gc); `flavor: "last-resort"` also shrinks the young generation and hands freed pages back to the OS. */
type Gc = (options?: { readonly type: "major"; readonly execution: "sync"; readonly flavor: "last-resort" }) => void;
const gc = runInNewContext("gc") as Gc | undefined;

const cache = createSnapshotCache({ nodeKey: () => groupKey });
const server = createXdsServer({ cache, controlPlaneId: "peer-bench" });
const port = await server.listen({ host: "127.0.0.1", port: 0 });
// 1 ms resolution: the longest block is what matters, and the monitor's own
// timer costs little at that rate.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const reply = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
reply(`ready ${port} ${loadedMs.toFixed(1)} ${performance.now().toFixed(1)}`);

for await (const line of createInterface({ input: process.stdin })) {
  const words = line.trim().split(/\s+/);
  try {
    if (words[0] === "prepare") {
      const [buildMs, snapshotMs] = prepare(words);
      reply(`prepared ${buildMs.toFixed(3)} ${snapshotMs.toFixed(3)}`);
    } else if (words[0] === "apply" && prepared !== undefined) {
      const t0 = performance.now();
      await cache.setSnapshot(groupKey, prepared);
      reply(`applied ${(performance.now() - t0).toFixed(3)}`);
    } else if (words[0] === "watch") {
      // A listener on the key, as a connected stream has: a set then computes
      // what changed, which encodes every new resource.
      cache.watch(groupKey, () => {});
      reply("watching");
    } else if (words[0] === "gc") {
      for (let i = 0; i < 3; i++) {
        gc?.();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      reply("gc");
    } else if (words[0] === "settle") {
      // A regular full GC leaves the pages it freed committed (RSS 3-4x the
      // heap in use after a 20,000-resource set) until V8's memory reducer
      // runs, seconds later, once the process is idle; the last-resort GC
      // does the same shrinking now, so "idle RSS" is what an idle process
      // settles at, measured without waiting.
      for (let i = 0; i < 2; i++) gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
      reply("settled");
    } else if (words[0] === "stats") {
      const { heapUsed, heapTotal, arrayBuffers } = process.memoryUsage();
      reply(`stats ${JSON.stringify({ eventLoopMaxMs: Math.round(loop.max / 1e4) / 100, heapUsedBytes: heapUsed, heapTotalBytes: heapTotal, arrayBuffersBytes: arrayBuffers })}`);
      loop.reset();
    } else if (words[0] !== "") {
      reply(`error unknown command ${JSON.stringify(line)}`);
    }
  } catch (error) {
    reply(`error ${error instanceof Error ? error.message : String(error)}`);
  }
}
await server.close({ graceMs: 200 });
loop.disable();
