// Side-by-side benchmark against go-control-plane (`npm run bench:peer`).
//
// Builds two Go programs from bench/peer/ (go.mod pins go-control-plane): the
// go-control-plane harness server (gcp-server) and the lean load client
// (load-client), and runs our server (bench/peer/ours-server.ts) and the
// harness on the same resources, driven by the same client, alternating the
// servers (ours, gcp, ours, gcp, …). One table: time, server CPU seconds
// (from /proc), bytes and RSS per stream, the longest event-loop block (ours
// only), with the ratio ours/gcp; last, one JSON line for machines.
//
// Flags: --scenarios a,b (default all; see SCENARIOS), --quick (tiny N and R,
// one run: a smoke test), --runs K (per server and scenario; default 2),
// --build-only (build the Go programs and exit: a cold Go cache takes about a
// minute, which the smoke test spends before its timed runs).
// Without the Go toolchain it prints why and exits 0 (nothing to compare).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { positiveInt, runMain } from "./support/cli.ts";
import { cpuSeconds, LineProcess, rssBytes } from "./support/line-process.ts";
import { textTable } from "./support/text-table.ts";

type Protocol = "sotw" | "delta";
/** What a scenario times: a change after the initial sync, the initial sync itself, or a snapshot set with nobody connected. */
type Phase = "change-all" | "change-one" | "connect" | "set";

interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly protocol: Protocol;
  /** N: streams (0: nobody connected). */
  readonly clients: number;
  /** R: clusters, and as many load assignments. */
  readonly resources: number;
  readonly phase: Phase;
}

const SCENARIOS: readonly Scenario[] = [
  { name: "sotw-all", title: "SotW all-change", protocol: "sotw", clients: 1000, resources: 1000, phase: "change-all" },
  { name: "sotw-one", title: "SotW one-change", protocol: "sotw", clients: 1000, resources: 1000, phase: "change-one" },
  { name: "delta-one", title: "Delta one-change", protocol: "delta", clients: 1000, resources: 10_000, phase: "change-one" },
  { name: "initial", title: "initial sync", protocol: "sotw", clients: 1000, resources: 10_000, phase: "connect" },
  // Issue 15's shape: 1,000 Delta clients x 10,000 resources, fully served.
  { name: "initial-delta", title: "initial sync", protocol: "delta", clients: 1000, resources: 10_000, phase: "connect" },
  { name: "idle", title: "idle memory", protocol: "sotw", clients: 5000, resources: 10, phase: "connect" },
  { name: "streams-10k", title: "10,000 streams", protocol: "sotw", clients: 10_000, resources: 10, phase: "connect" },
  { name: "set-unwatched", title: "snapshot set, nobody connected", protocol: "sotw", clients: 0, resources: 10_000, phase: "set" },
];

/** --quick: the same scenarios at sizes that run in seconds. */
const quickSize = (s: Scenario): Scenario => ({ ...s, clients: s.clients === 0 ? 0 : Math.min(s.clients, s.clients >= 5000 ? 12 : 6), resources: Math.min(s.resources, 25) });

type Server = "ours" | "gcp";

interface RunResult {
  readonly startupMs: number;
  readonly idleRssBytes: number;
  /** The scenario's time: setSnapshot to every stream ACKed (change), connect to every stream synced (connect), building and setting the snapshot (set). */
  readonly timeMs: number;
  /** Server CPU (user + system) over that same phase. */
  readonly cpuSeconds: number;
  /** Bytes each stream received in that phase (n/a for set). */
  readonly bytesPerStream: number | undefined;
  /** Server RSS with the streams connected minus before, after a GC, per stream. */
  readonly rssPerStreamBytes: number | undefined;
  readonly eventLoopMaxMs: number | undefined;
}

const here = fileURLToPath(new URL("./peer/", import.meta.url));
const buildDir = `${here}.build/`;
const waitMs = 600_000;
/** The Go toolchain's `go`, or undefined when it is not installed. */
function findGo(): string | undefined {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return "go";
  } catch {
    return undefined;
  }
}

/** Builds both Go programs into bench/peer/.build (gitignored); Go's build cache makes a rebuild quick. */
function buildGo(go: string): void {
  for (const program of ["gcp-server", "load-client"]) {
    // -buildvcs=false: worktrees and source tarballs have no usable VCS stamp (as packages/envoy-api/scripts/generate.sh).
    execFileSync(go, ["build", "-buildvcs=false", "-o", `${buildDir}${program}`, `./${program}`], { cwd: here, stdio: ["ignore", "inherit", "inherit"] });
  }
}

const now = (): number => performance.now();

/**
 * Our server's idle RSS with nothing set, once V8 has handed the freed pages
 * back to the OS, as Go's gc command does with debug.FreeOSMemory. A regular
 * GC keeps them committed (~35 MiB after loading the modules: garbage of
 * compiling them and of hydrating the Envoy descriptors) until V8's memory
 * reducer returns them, 8-12 s later on its own; the last-resort GC
 * (`settle`) returns them now. Read in a process of its own: a last-resort
 * GC before the scenario made the set that follows it 15-20 ms slower (a
 * shrunk young generation), which would change the figure measured next.
 */
async function oursSettledIdleRss(): Promise<number> {
  const proc = new LineProcess("ours-server", process.execPath, [`${here}ours-server.ts`], { waitMs });
  try {
    await proc.next("ready");
    await proc.command("gc", "gc");
    await proc.command("settle", "settled");
    return rssBytes(proc.pid);
  } finally {
    await proc.stop();
  }
}

async function runOnce(server: Server, s: Scenario): Promise<RunResult> {
  const t0 = now();
  const proc =
    server === "ours"
      ? new LineProcess("ours-server", process.execPath, [`${here}ours-server.ts`], { waitMs })
      : new LineProcess("gcp-server", `${buildDir}gcp-server`, [], { waitMs });
  let client: LineProcess | undefined;
  try {
    const [port] = await proc.next("ready");
    const startupMs = now() - t0;
    await proc.command("gc", "gc");
    const idleRssBytes = server === "ours" ? await oursSettledIdleRss() : rssBytes(proc.pid);
    const measure = async (run: () => Promise<void>): Promise<{ ms: number; cpu: number; loop: number | undefined }> => {
      await proc.command("stats", "stats"); // resets the event-loop monitor
      const cpu0 = cpuSeconds(proc.pid);
      const start = now();
      await run();
      const ms = now() - start;
      const cpu = cpuSeconds(proc.pid) - cpu0;
      const [json] = await proc.command("stats", "stats");
      const loop = (JSON.parse(json ?? "{}") as { eventLoopMaxMs?: number }).eventLoopMaxMs;
      return { ms, cpu, loop };
    };
    const set = await measure(async () => {
      await proc.command(`prepare initial ${s.resources}`, "prepared");
      await proc.command("apply", "applied");
    });
    if (s.phase === "set") {
      return { startupMs, idleRssBytes, timeMs: set.ms, cpuSeconds: set.cpu, bytesPerStream: undefined, rssPerStreamBytes: undefined, eventLoopMaxMs: set.loop };
    }
    await proc.command("gc", "gc");
    const rss0 = rssBytes(proc.pid);
    const c = new LineProcess("load-client", `${buildDir}load-client`, [
      "-addr",
      `127.0.0.1:${port}`,
      "-clients",
      String(s.clients),
      "-resources",
      String(s.resources),
      "-protocol",
      s.protocol,
    ], { waitMs });
    client = c;
    let syncedBytes = 0;
    const connect = await measure(async () => {
      const [, bytes] = await c.command("connect", "synced");
      syncedBytes = Number(bytes);
    });
    await proc.command("gc", "gc");
    const rssPerStreamBytes = (rssBytes(proc.pid) - rss0) / s.clients;
    if (s.phase === "connect") {
      return { startupMs, idleRssBytes, timeMs: connect.ms, cpuSeconds: connect.cpu, bytesPerStream: syncedBytes, rssPerStreamBytes, eventLoopMaxMs: connect.loop };
    }
    await c.command(s.phase === "change-all" ? "arm cds,eds" : "arm eds", "armed");
    await proc.command(`prepare ${s.phase === "change-all" ? "all" : "one"}`, "prepared");
    let changeBytes = 0;
    const change = await measure(async () => {
      proc.send("apply");
      const [, done] = await Promise.all([proc.next("applied"), c.next("done")]);
      changeBytes = Number(done[0]);
    });
    return { startupMs, idleRssBytes, timeMs: change.ms, cpuSeconds: change.cpu, bytesPerStream: changeBytes, rssPerStreamBytes, eventLoopMaxMs: change.loop };
  } finally {
    await client?.stop();
    await proc.stop();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const medianOf = (runs: readonly RunResult[], pick: (r: RunResult) => number | undefined): number | undefined => {
  const values = runs.map(pick).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : median(values);
};

interface Figures {
  readonly timeMs: number | undefined;
  readonly cpuSeconds: number | undefined;
  readonly bytesPerStream: number | undefined;
  readonly rssPerStreamBytes: number | undefined;
  readonly eventLoopMaxMs: number | undefined;
}
const figures = (runs: readonly RunResult[]): Figures => ({
  timeMs: medianOf(runs, (r) => r.timeMs),
  cpuSeconds: medianOf(runs, (r) => r.cpuSeconds),
  bytesPerStream: medianOf(runs, (r) => r.bytesPerStream),
  rssPerStreamBytes: medianOf(runs, (r) => r.rssPerStreamBytes),
  eventLoopMaxMs: medianOf(runs, (r) => r.eventLoopMaxMs),
});

const fmt = {
  ms: (n: number): string => (n < 10 ? `${n.toFixed(2)} ms` : n < 1000 ? `${n.toFixed(0)} ms` : `${(n / 1000).toFixed(2)} s`),
  s: (n: number): string => `${n.toFixed(2)} s`,
  bytes: (n: number): string => (n < 10_000 ? `${Math.round(n)} B` : n < 10_000_000 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`),
};
const cell = (v: number | undefined, f: (n: number) => string): string => (v === undefined ? "n/a" : f(v));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b <= 0 ? "n/a" : `${(a / b).toFixed(2)}`);

const timeLabel: Record<Phase, string> = {
  "change-all": "setSnapshot to all ACKed",
  "change-one": "setSnapshot to all ACKed",
  connect: "connect to all ACKed",
  set: "build + setSnapshot",
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { scenarios: { type: "string" }, quick: { type: "boolean", default: false }, runs: { type: "string" }, "build-only": { type: "boolean", default: false } },
  });
  const quick = values.quick === true;
  const runs = positiveInt("runs", values.runs, quick ? 1 : 2);
  const wanted = values.scenarios?.split(",").map((n) => n.trim()) ?? SCENARIOS.map((s) => s.name);
  const unknown = wanted.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`--scenarios: unknown ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name)).map((s) => (quick ? quickSize(s) : s));

  const go = findGo();
  if (go === undefined) {
    console.log("bench:peer skipped: the Go toolchain (go) is not on PATH; it builds the go-control-plane harness and the load client (bench/peer/go.mod). Install Go 1.26 or later and rerun.");
    return;
  }
  buildGo(go);
  if (values["build-only"] === true) {
    console.log(`bench:peer: built ${buildDir}gcp-server and ${buildDir}load-client`);
    return;
  }

  const results: Array<{ scenario: Scenario; ours: RunResult[]; gcp: RunResult[] }> = [];
  for (const s of scenarios) {
    const entry = { scenario: s, ours: [] as RunResult[], gcp: [] as RunResult[] };
    // Alternate the servers, so a load spike on the shared machine hits both.
    for (let i = 0; i < runs; i++) {
      for (const server of ["ours", "gcp"] as const) {
        const r = await runOnce(server, s);
        entry[server].push(r);
        console.error(`[peer] ${s.name} ${server} run ${i + 1}/${runs}: ${fmt.ms(r.timeMs)}, cpu ${fmt.s(r.cpuSeconds)}`);
      }
    }
    results.push(entry);
  }

  const rows: string[][] = [["scenario", "figure", "ours", "gcp", "ours/gcp"]];
  const json: Record<string, unknown>[] = [];
  const all = { ours: results.flatMap((r) => r.ours), gcp: results.flatMap((r) => r.gcp) };
  const startup = { ours: medianOf(all.ours, (r) => r.startupMs), gcp: medianOf(all.gcp, (r) => r.startupMs) };
  const idleRss = { ours: medianOf(all.ours, (r) => r.idleRssBytes), gcp: medianOf(all.gcp, (r) => r.idleRssBytes) };
  rows.push(["start-up", "spawn to listening", cell(startup.ours, fmt.ms), cell(startup.gcp, fmt.ms), ratio(startup.ours, startup.gcp)]);
  rows.push(["idle", "RSS, nothing set", cell(idleRss.ours, fmt.bytes), cell(idleRss.gcp, fmt.bytes), ratio(idleRss.ours, idleRss.gcp)]);
  for (const { scenario: s, ours, gcp } of results) {
    const o = figures(ours);
    const g = figures(gcp);
    const name = `${s.title} (${s.protocol}, N=${s.clients}, R=${s.resources})`;
    rows.push([name, timeLabel[s.phase], cell(o.timeMs, fmt.ms), cell(g.timeMs, fmt.ms), ratio(o.timeMs, g.timeMs)]);
    rows.push(["", "server CPU", cell(o.cpuSeconds, fmt.s), cell(g.cpuSeconds, fmt.s), ratio(o.cpuSeconds, g.cpuSeconds)]);
    if (s.clients > 0) {
      rows.push(["", "bytes per stream", cell(o.bytesPerStream, fmt.bytes), cell(g.bytesPerStream, fmt.bytes), ratio(o.bytesPerStream, g.bytesPerStream)]);
      rows.push(["", "RSS per stream", cell(o.rssPerStreamBytes, fmt.bytes), cell(g.rssPerStreamBytes, fmt.bytes), ratio(o.rssPerStreamBytes, g.rssPerStreamBytes)]);
    }
    rows.push(["", "longest event-loop block", cell(o.eventLoopMaxMs, fmt.ms), "n/a", "n/a"]);
    json.push({ scenario: s.name, protocol: s.protocol, clients: s.clients, resources: s.resources, phase: s.phase, ours: o, gcp: g });
  }
  console.log(textTable(rows));
  console.log(`(median of ${runs} run${runs === 1 ? "" : "s"} per server, alternating; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`);
  console.log(JSON.stringify({ bench: "peer", runs, startupMs: startup, idleRssBytes: idleRss, scenarios: json }));
}

runMain(import.meta, main);
