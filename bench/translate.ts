// Translation benchmark: `node bench/translate.ts [--routes 1000,10000] [--runs N]
// [--warmup N] [--quick]`. Prints a table for people and, last, one JSON line for machines.
//
// The configuration (bench/support/synthetic-config.ts): one HTTP listener, R routes in
// ceil(R/10) Route objects (one virtual host each, its own domain), every route matching
// a path prefix and an `x-tenant` header and going to its own Service with two static
// endpoints. That compiles to 2R + 2 Envoy resources (R clusters, R load assignments,
// one listener, one route configuration holding R/10 virtual hosts).
//
// What is timed, after warm-up runs (JIT, inline caches) that are not counted:
// - full translation: `compile(objects)`, the whole pure pipeline (validate -> graph ->
//   Envoy messages -> protoc-gen-validate checks), nothing memoised;
// - full translation + `createSnapshot` (encode every resource, hash per type): a cold
//   start, when nothing has been translated or encoded before;
// - at the largest R, through one `createCompiler()` primed with the configuration:
//   an endpoint-only change (one Service's endpoint port moves; lastPath must be
//   "endpoints", and is printed), and for comparison a change that is not endpoints
//   only (one Route object gains a timeout; lastPath "full", memoised rebuild). Each
//   twice: compile alone with unchanged objects kept by identity, and the control
//   plane's reconciler step (fresh copies of every object, as read back from the store,
//   then compile + createSnapshot, which reuses encodings of unchanged messages).
// Each change run swaps a different object, so no run is a no-op ("unchanged").
import { parseArgs } from "node:util";
import { cpus, loadavg } from "node:os";
import { createSnapshot } from "@ts-control-plane/xds";
import type { Message } from "@bufbuild/protobuf";
import { compile, createCompiler } from "@ts-control-plane/control-plane/compile";
import type { ModelObject } from "@ts-control-plane/control-plane/model/model-object";
import { summarizeTimings, type Timings } from "./support/summarize-timings.ts";
import { routeObject, routesPerRouteObject, serviceObject, syntheticConfig } from "./support/synthetic-config.ts";
import { ms, textTable } from "./support/text-table.ts";

interface Options {
  readonly routes: number[];
  readonly runs: number;
  readonly warmup: number;
  readonly quick: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      routes: { type: "string" },
      runs: { type: "string" },
      warmup: { type: "string" },
      quick: { type: "boolean", default: false },
    },
  });
  const int = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} needs integers >= ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const quick = values.quick === true;
  const routes = (values.routes ?? (quick ? "20,50" : "1000,10000")).split(",").map((r) => int("routes", r.trim(), 1));
  return {
    quick,
    routes,
    runs: values.runs === undefined ? (quick ? 3 : 20) : int("runs", values.runs, 1),
    warmup: values.warmup === undefined ? (quick ? 1 : 3) : int("warmup", values.warmup, 0),
  };
}

export interface FullFigures {
  readonly routes: number;
  readonly objects: number;
  readonly resources: number;
  readonly compile: Measured;
  readonly compileAndSnapshot: Measured;
}

export interface ChangeFigures {
  readonly routes: number;
  readonly change: string;
  readonly lastPath: string;
  /** compiler.compile alone; unchanged objects keep their identity. */
  readonly compile: Measured;
  /** Fresh copies of every object, compile + createSnapshot: one change in the control plane's reconciler. */
  readonly reconcilerStep: Measured;
}

export interface TranslateResult {
  readonly full: FullFigures[];
  readonly endpointChange: ChangeFigures;
  readonly routeChange: ChangeFigures;
}

/**
 * Wall and CPU time of one run, in ms. No forced GC between runs: garbage collection is
 * part of the steady-state cost, and a full GC before each run made the short runs
 * (the endpoint fast path) about twice as slow as back-to-back runs, not more precise.
 */
function timed(fn: () => void): { wallMs: number; cpuMs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Wall-clock timings, and the process CPU time of the same runs (steadier on a shared machine). */
export interface Measured {
  readonly wall: Timings;
  readonly cpu: Timings;
}

/** `warmup` uncounted runs, then `runs` counted ones; run i gets its own input from `input(i)`. */
function measure<T>(options: { warmup: number; runs: number }, input: (i: number) => T, fn: (x: T) => void): Measured {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const x = input(i);
    const t = timed(() => fn(x));
    if (i >= options.warmup) {
      wall.push(t.wallMs);
      cpu.push(t.cpuMs);
    }
  }
  return { wall: summarizeTimings(wall), cpu: summarizeTimings(cpu) };
}

function fullFigures(routes: number, options: Options): FullFigures {
  const objects = syntheticConfig(routes);
  const first = compile(objects);
  if (first.diagnostics.length > 0) throw new Error(`the synthetic configuration has diagnostics: ${JSON.stringify(first.diagnostics.slice(0, 3))}`);
  const resources = first.groups.reduce((n, g) => n + g.resources.length, 0);
  // Fresh copies per run, as the reconciler gets them from the store: nothing is shared by identity.
  const copy = () => structuredClone(objects);
  return {
    routes,
    objects: objects.length,
    resources,
    compile: measure(options, copy, (o) => void compile(o)),
    compileAndSnapshot: measure(options, copy, (o) => {
      for (const g of compile(o).groups) createSnapshot({ resources: g.resources });
    }),
  };
}

type ChangeKind = "endpoints" | "route";

/**
 * One kind of change, made `runs` times (plus warm-up) to one compiler primed with the
 * configuration. "compile": objects not changed keep their identity (an embedding
 * caller's view), only `compiler.compile` is timed. "reconciler": every run gets fresh
 * copies of all objects, as the control plane's reconciler does (it reads them back
 * from the store for every change), and the timing covers compile + createSnapshot
 * (the snapshot library reuses the encodings of messages it has seen).
 */
function changeRuns(routes: number, options: Options, kind: ChangeKind, mode: "compile" | "reconciler"): { lastPath: string; timings: Measured } {
  const compiler = createCompiler();
  let current = syntheticConfig(routes);
  const snapshot = (groups: readonly { resources: Message[] }[]): void => {
    for (const g of groups) createSnapshot({ resources: g.resources });
  };
  const primed = compiler.compile(current);
  if (compiler.lastPath !== "full") throw new Error(`priming compile took path ${compiler.lastPath}`);
  if (mode === "reconciler") snapshot(primed.groups);
  const routeObjects = Math.ceil(routes / routesPerRouteObject);
  let lastPath = "";
  // Run i changes one object, spread over the configuration, and never to a value it had.
  const next = (i: number): ModelObject[] => {
    const out = [...current];
    if (kind === "endpoints") {
      const s = (i * 7919) % routes;
      out[1 + routeObjects + s] = serviceObject(s, i + 1);
    } else {
      const k = (i * 31) % routeObjects;
      out[1 + k] = routeObject(k, routes, { timeout: `${i + 1}s` });
    }
    return mode === "reconciler" ? structuredClone(out) : out;
  };
  const want = kind === "endpoints" ? "endpoints" : "full";
  const timings = measure(options, next, (o) => {
    const result = compiler.compile(o);
    if (mode === "reconciler") snapshot(result.groups);
    lastPath = compiler.lastPath ?? "undefined";
    if (lastPath !== want) throw new Error(`a ${kind} change took path "${lastPath}", expected "${want}"`);
    if (result.rejected.length > 0) throw new Error(`the change was rejected: ${result.rejected.join(", ")}`);
    current = o;
  });
  return { lastPath, timings };
}

function changeFigures(routes: number, options: Options, kind: ChangeKind): ChangeFigures {
  const compile = changeRuns(routes, options, kind, "compile");
  const reconciler = changeRuns(routes, options, kind, "reconciler");
  if (compile.lastPath !== reconciler.lastPath) throw new Error(`paths differ: ${compile.lastPath} / ${reconciler.lastPath}`);
  return {
    routes,
    change: kind === "endpoints" ? "one Service's endpoint port" : "one Route object's timeout",
    lastPath: compile.lastPath,
    compile: compile.timings,
    reconcilerStep: reconciler.timings,
  };
}

export function runTranslate(options: Options): TranslateResult {
  const full = options.routes.map((r) => fullFigures(r, options));
  const largest = Math.max(...options.routes);
  return {
    full,
    endpointChange: changeFigures(largest, options, "endpoints"),
    routeChange: changeFigures(largest, options, "route"),
  };
}

export function formatTranslate(r: TranslateResult, options: Options): string {
  const row = (what: string, t: Measured, extra = ""): string[] => [what, ms(t.wall.medianMs), ms(t.wall.p95Ms), ms(t.wall.maxMs), ms(t.cpu.medianMs), String(t.wall.runs), extra];
  return [
    `Translation: 1 HTTP listener, R routes in R/${routesPerRouteObject} Route objects (prefix + header match), one Service with 2 static endpoints per route`,
    `(wall-clock times; ${options.warmup} warm-up runs not counted; p95 is nearest-rank; CPU is this process's user+system time, GC threads included)`,
    "",
    textTable([
      ["measure", "median", "p95", "max", "CPU median", "runs", "notes"],
      ...r.full.flatMap((f) => [
        row(`full compile, R=${f.routes}`, f.compile, `${f.objects} objects -> ${f.resources} resources`),
        row(`full compile + createSnapshot, R=${f.routes}`, f.compileAndSnapshot, "a cold start: every resource encoded"),
      ]),
      ...[r.endpointChange, r.routeChange].flatMap((c) => [
        row(`incremental compile: ${c.change}, R=${c.routes}`, c.compile, `lastPath=${c.lastPath}`),
        row(`  + fresh copies + createSnapshot`, c.reconcilerStep, "one change in the reconciler"),
      ]),
    ]),
  ].join("\n");
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  const result = runTranslate(options);
  console.log(formatTranslate(result, options));
  const machine = { node: process.version, cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100) };
  console.log(JSON.stringify({ bench: "translate", quick: options.quick, warmup: options.warmup, ...machine, ...result }));
}

if (import.meta.main) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  }
}
