// Control-plane latency benchmark: `node bench/control-plane-latency.ts
// [--change backend|route|endpoint] [--iterations 100] [--warmup 5] [--poll-ms 5]
// [--background-routes 0] [--quick]`.
// Prints a table for people and, last, one JSON line for machines.
//
// Time from an admin API call to a real Envoy serving the new behaviour. Real parts
// (bench/support/latency-rig.ts): the control plane as its own process (ephemeral
// ports, temp data dir, sqlite store), one Envoy (1 worker) booted from the control
// plane's /api/v1/bootstrap over SotW ADS, two local upstreams "alpha" and "beta".
// Each iteration makes one change and then requests through Envoy every --poll-ms
// (one keep-alive connection) until an answer shows it; the time is from just before
// the API call to that answer, so it includes the store commit, the compile, the push,
// Envoy's apply and up to one poll interval. The kinds of change:
// - backend (default): PUT /api/v1/objects/Route/bench moves `/` to the other service (RDS);
// - route: POST /api/v1/apply adds a new prefix `/rN/` routed to beta ahead of `/` -> alpha (RDS);
// - endpoint: PUT /api/v1/objects/Service/alpha moves its endpoint to the other upstream (EDS).
// --background-routes N first loads N more routes on the same listener (the translate
// benchmark's shape: R/10 Route objects, a Service with 2 endpoints per route), since
// every change is compiled and pushed together with everything else that is stored.
// Before each change an untimed request checks the old behaviour is still served, so
// every timed change is a real one. Warm-up changes are made the same way, not counted.
// The control plane's own view is printed beside it: its convergence histogram
// (tcp_xds_convergence_seconds, from the change set on the cache to Envoy's ACK),
// scraped from GET /metrics before the first timed change and after the last.
import { spawnSync } from "node:child_process";
import { Agent } from "node:http";
import { cpus, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { httpGet } from "../e2e/harness/http-get.ts";
import { histogramQuantile, histogramSince, PrometheusScrape, type HistogramView } from "../e2e/harness/prometheus-text.ts";
import { apiVersion, routeName, routeObject, startLatencyRig, type LatencyRig } from "./support/latency-rig.ts";
import { summarizeTimings, type Timings } from "./support/summarize-timings.ts";
import { ms, textTable } from "./support/text-table.ts";

const changeKinds = ["backend", "route", "endpoint"] as const;
type ChangeKind = (typeof changeKinds)[number];

interface Options {
  readonly change: ChangeKind;
  readonly iterations: number;
  readonly warmup: number;
  readonly pollMs: number;
  readonly timeoutMs: number;
  readonly backgroundRoutes: number;
  readonly quick: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      change: { type: "string", default: "backend" },
      iterations: { type: "string" },
      warmup: { type: "string" },
      "poll-ms": { type: "string" },
      "timeout-ms": { type: "string" },
      "background-routes": { type: "string" },
      quick: { type: "boolean", default: false },
    },
  });
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const change = changeKinds.find((k) => k === values.change);
  if (change === undefined) throw new Error(`--change must be one of ${changeKinds.join(", ")}, got ${JSON.stringify(values.change)}`);
  const quick = values.quick === true;
  return {
    change,
    quick,
    iterations: int("iterations", values.iterations, quick ? 3 : 100, 1),
    warmup: int("warmup", values.warmup, quick ? 1 : 5, 0),
    pollMs: int("poll-ms", values["poll-ms"], 5, 0),
    timeoutMs: int("timeout-ms", values["timeout-ms"], 10_000, 100),
    backgroundRoutes: int("background-routes", values["background-routes"], 0, 0),
  };
}

/** One change: the API request that makes it, and the request through Envoy that shows it. */
interface Change {
  readonly method: "PUT" | "POST";
  readonly path: string;
  readonly body: unknown;
  /** Path requested through Envoy, and the body expected before and after the change. */
  readonly probe: string;
  readonly before: string;
  readonly after: string;
}

const servedBy = (name: string): string => `served by ${name}\n`;
const other = (name: string): string => (name === "alpha" ? "beta" : "alpha");

/** The n-th change (0-based) of a kind; each one undoes nothing of the previous, it moves on from it. */
function makeChange(kind: ChangeKind, n: number, rig: LatencyRig): Change {
  if (kind === "backend") {
    // `/` starts on alpha: change n moves it to beta when n is even, back to alpha when odd.
    const from = n % 2 === 0 ? "alpha" : "beta";
    return {
      method: "PUT",
      path: `/api/v1/objects/Route/${routeName}`,
      body: routeObject([{ prefix: "/", service: other(from) }]),
      probe: "/",
      before: servedBy(from),
      after: servedBy(other(from)),
    };
  }
  if (kind === "route") {
    // Change n adds /rn/ -> beta ahead of the earlier ones and of the catch-all `/` -> alpha.
    const rules = [...Array.from({ length: n + 1 }, (_, i) => ({ prefix: `/r${n - i}/`, service: "beta" })), { prefix: "/", service: "alpha" }];
    return { method: "POST", path: "/api/v1/apply", body: [routeObject(rules)], probe: `/r${n}/x`, before: servedBy("alpha"), after: servedBy("beta") };
  }
  // Service alpha's only endpoint alternates between the two upstreams; `/` stays routed to alpha.
  const from = n % 2 === 0 ? rig.upstreams.alpha : rig.upstreams.beta;
  const to = n % 2 === 0 ? rig.upstreams.beta : rig.upstreams.alpha;
  return {
    method: "PUT",
    path: "/api/v1/objects/Service/alpha",
    body: { apiVersion, kind: "Service", metadata: { name: "alpha" }, spec: { discovery: "Static", endpoints: [{ address: "127.0.0.1", port: to.port }] } },
    probe: "/",
    before: servedBy(from.name),
    after: servedBy(to.name),
  };
}

interface Sample {
  /** Until the admin API answered: stored, compiled and set on the snapshot cache (sent to Envoy). */
  readonly apiMs: number;
  /** Until the first answer through Envoy that shows the change. */
  readonly servedMs: number;
  readonly polls: number;
  /** Answers during the wait that were neither the old nor the new behaviour (e.g. a 503). */
  readonly unexpected: number;
}

async function measureChange(rig: LatencyRig, change: Change, options: Options, agent: Agent): Promise<Sample> {
  const probeUrl = rig.listenerUrl + change.probe;
  const check = await httpGet(probeUrl, { agent });
  if (check.body !== change.before) throw new Error(`before the change ${change.probe} answered ${check.status} ${JSON.stringify(check.body)}, expected ${JSON.stringify(change.before)}`);
  const t0 = performance.now();
  const res = await fetch(rig.controlPlane.adminUrl + change.path, { method: change.method, headers: { "content-type": "application/json" }, body: JSON.stringify(change.body) });
  const answer = await res.text();
  const apiMs = performance.now() - t0;
  if (res.status !== 200 || !(JSON.parse(answer) as { changed?: boolean }).changed) throw new Error(`${change.method} ${change.path} answered ${res.status}: ${answer}`);
  let polls = 0;
  let unexpected = 0;
  for (;;) {
    polls++;
    const remaining = options.timeoutMs - (performance.now() - t0);
    if (remaining <= 0) throw new Error(`Envoy did not serve ${JSON.stringify(change.after)} on ${change.probe} within ${options.timeoutMs} ms\n${rig.envoy.logs(30)}`);
    const got = await httpGet(probeUrl, { agent, timeoutMs: Math.min(remaining, 5000) }).catch((error: unknown) => ({ status: 0, body: String(error) }));
    if (got.status === 200 && got.body === change.after) return { apiMs, servedMs: performance.now() - t0, polls, unexpected };
    if (got.body !== change.before) unexpected++;
    if (options.pollMs > 0) await sleep(options.pollMs);
  }
}

export interface LatencyResult {
  readonly change: ChangeKind;
  readonly iterations: number;
  readonly warmup: number;
  readonly pollMs: number;
  readonly backgroundRoutes: number;
  readonly apiMs: Timings;
  readonly servedMs: Timings;
  readonly polls: Timings;
  readonly unexpectedAnswers: number;
  /**
   * The control plane's tcp_xds_convergence_seconds over the timed changes:
   * how many ACKs it timed (one per change and resource type it touched) and
   * its p50/p95 in ms, estimated from the buckets as histogram_quantile does.
   */
  readonly convergenceMs: { readonly count: number; readonly p50Ms: number; readonly p95Ms: number };
}

async function convergence(rig: LatencyRig): Promise<HistogramView> {
  const res = await fetch(`${rig.controlPlane.adminUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${await res.text()}`);
  return new PrometheusScrape(await res.text()).histogram("tcp_xds_convergence_seconds");
}

export async function runLatency(options: Options): Promise<LatencyResult> {
  const rig = await startLatencyRig({ backgroundRoutes: options.backgroundRoutes });
  // One connection for every probe: a new TCP connect per poll would add its own latency.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const samples: Sample[] = [];
    let before: HistogramView | undefined;
    for (let n = 0; n < options.warmup + options.iterations; n++) {
      if (n === options.warmup) before = await convergence(rig);
      const sample = await measureChange(rig, makeChange(options.change, n, rig), options, agent);
      if (n >= options.warmup) samples.push(sample);
    }
    // Envoy serving the change can come before the server has read its ACK: wait for the last ACK to be timed.
    let timed = histogramSince(await convergence(rig), before ?? { buckets: [], count: 0, sum: 0 });
    for (const deadline = performance.now() + 2000; timed.count < options.iterations && performance.now() < deadline; ) {
      await sleep(10);
      timed = histogramSince(await convergence(rig), before ?? { buckets: [], count: 0, sum: 0 });
    }
    const round = (seconds: number): number => Math.round(seconds * 10_000) / 10;
    return {
      change: options.change,
      iterations: options.iterations,
      warmup: options.warmup,
      pollMs: options.pollMs,
      backgroundRoutes: options.backgroundRoutes,
      apiMs: summarizeTimings(samples.map((s) => s.apiMs)),
      servedMs: summarizeTimings(samples.map((s) => s.servedMs)),
      polls: summarizeTimings(samples.map((s) => s.polls)),
      unexpectedAnswers: samples.reduce((n, s) => n + s.unexpected, 0),
      convergenceMs: { count: timed.count, p50Ms: round(histogramQuantile(0.5, timed)), p95Ms: round(histogramQuantile(0.95, timed)) },
    };
  } finally {
    agent.destroy();
    await rig.close();
  }
}

const describe: Record<ChangeKind, string> = {
  backend: "PUT Route: `/` moves to the other service (RDS)",
  route: "POST apply: a new prefix route to beta (RDS)",
  endpoint: "PUT Service: its endpoint moves to the other upstream (EDS)",
};

export function formatLatency(r: LatencyResult): string {
  const row = (what: string, t: Timings): string[] => [what, ms(t.medianMs), ms(t.p95Ms), ms(t.maxMs)];
  return [
    `Control plane latency: admin API call -> a real Envoy serves the change; ${r.iterations} changes (+${r.warmup} warm-up), polling every ${r.pollMs} ms`,
    `change: ${describe[r.change]}; configuration: 1 Listener, 2 Services, the bench Route${r.backgroundRoutes > 0 ? ` and ${r.backgroundRoutes} background routes (${r.backgroundRoutes} more Services)` : ""}`,
    "",
    textTable([
      ["measure", "p50", "p95", "max"],
      row("admin API answered (stored, compiled, pushed)", r.apiMs),
      row("Envoy serves the change (from the call)", r.servedMs),
    ]),
    "",
    `probe requests per change: p50 ${r.polls.medianMs}, max ${r.polls.maxMs}; answers that were neither old nor new: ${r.unexpectedAnswers}`,
    `control plane's convergence histogram (change on the cache -> Envoy's ACK, GET /metrics): p50 ${r.convergenceMs.p50Ms} ms, p95 ${r.convergenceMs.p95Ms} ms over ${r.convergenceMs.count} ACKs (estimated from its buckets)`,
  ].join("\n");
}

function envoyVersion(): string {
  const bin = process.env["ENVOY_BIN"];
  if (bin === undefined) return "unknown";
  const out = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return /\d+\.\d+\.\d+/.exec(out.stdout ?? "")?.[0] ?? "unknown";
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const loadBefore = loadavg();
  const result = await runLatency(options);
  console.log(formatLatency(result));
  const { medianMs: apiP50, p95Ms: apiP95, maxMs: apiMax } = result.apiMs;
  const { medianMs: p50Ms, p95Ms, maxMs } = result.servedMs;
  const round = (l: number): number => Math.round(l * 100) / 100;
  console.log(
    JSON.stringify({
      bench: "control-plane-latency",
      quick: options.quick,
      change: result.change,
      iterations: result.iterations,
      warmup: result.warmup,
      pollMs: result.pollMs,
      backgroundRoutes: result.backgroundRoutes,
      servedMs: { p50Ms, p95Ms, maxMs },
      apiMs: { p50Ms: apiP50, p95Ms: apiP95, maxMs: apiMax },
      pollsP50: result.polls.medianMs,
      convergenceMs: result.convergenceMs,
      unexpectedAnswers: result.unexpectedAnswers,
      node: process.version,
      envoy: envoyVersion(),
      cpus: cpus().length,
      loadavgBefore: loadBefore.map(round),
      loadavgAfter: loadavg().map(round),
    }),
  );
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
