// Large-apply benchmark: `node bench/large-apply.ts [--objects 20000] [--small-runs 5] [--body json|yaml] [--via api|file] [--quick]`.
// Prints a table for people and, last, one JSON line for machines.
//
// Issue 14: a large apply must not block the event loop for more than ~100 ms at a
// time, or xDS streams and /healthz stall while it runs. The control plane runs in
// this process (`serve`, sqlite store in a temp dir, ephemeral ports), so its event
// loop is the one watched. N objects (packages/control-plane/src/admin/large-apply-kit.ts:
// 1 Listener, N/10 Routes, the rest Services) go in one POST /api/v1/apply as the CLI
// sends them (JSON `{"items": [...]}`; `--body yaml`: multi-document YAML), while the kit's probes run: a 10 ms interval
// (its longest gap, and the thread CPU time spent in it), monitorEventLoopDelay (max), GET /healthz every 20 ms (slowest
// answer) and an xDS ADS stream that changes its EDS subscription every 20 ms (slowest
// answer). `--via file` saves the N objects instead as one multi-document YAML file in a directory
// the control plane watches (`--config DIR`; written beside it, then renamed in, as editors save),
// timed from the rename to the push of its revision. A 1-object apply (one Service's port moves) is timed before the large apply
// (nearly empty store) and after it (N objects stored), the median of --small-runs.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { canaryServices, largeConfig, watchResponsiveness } from "@ts-control-plane/control-plane/admin/large-apply-kit";
import { serve } from "@ts-control-plane/control-plane/main";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { positiveInt, runMain } from "./support/cli.ts";
import { ms, textTable } from "./support/text-table.ts";

type BodyFormat = "json" | "yaml";
type Via = "api" | "file";

function bodyOf(objects: readonly unknown[], format: BodyFormat): string {
  return format === "json" ? JSON.stringify({ items: objects }) : objects.map((o) => stringify(o)).join("---\n");
}

/** POST /api/v1/apply; give a body made beforehand (a string) to keep its serialization out of what is measured. */
async function apply(adminPort: number, objects: readonly unknown[] | string, format: BodyFormat = "json"): Promise<{ revision: number; changes: number }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/apply`, {
    method: "POST",
    headers: { "content-type": format === "json" ? "application/json" : "application/yaml" },
    body: typeof objects === "string" ? objects : bodyOf(objects, format),
  });
  const body = (await res.json()) as { revision: number; changes: unknown[] };
  if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${JSON.stringify(body).slice(0, 2000)}`);
  return { revision: body.revision, changes: body.changes.length };
}

/**
 * Saves `body` (YAML) as a watched file: written next to the directory, renamed into it, and
 * waited for until the control plane logs the push of the revision it made.
 */
async function saveFile(options: { dir: string; conf: string; body: string; lines: string[] }): Promise<{ revision: number }> {
  const staged = join(options.dir, "bulk.yaml.tmp");
  const file = join(options.conf, "bulk.yaml");
  writeFileSync(staged, options.body);
  const from = options.lines.length;
  renameSync(staged, file);
  let revision: number | undefined;
  for (;;) {
    for (const line of options.lines.slice(from)) {
      if (line.startsWith(`refused change from ${file}`)) throw new Error(`the file was refused: ${options.lines.slice(from).join("\n").slice(0, 2000)}`);
      const accepted = /^accepted change from .*: revision (\d+)/.exec(line)?.[1];
      if (accepted !== undefined) revision = Number(accepted);
      const pushed = /^revision (\d+) compiled and pushed/.exec(line)?.[1];
      if (revision !== undefined && pushed !== undefined && Number(pushed) >= revision) return { revision };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Objects a file put in the store. */
async function countFromFile(adminPort: number, file: string): Promise<number> {
  const listed = (await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/objects`)).json()) as { items: { source: string }[] };
  return listed.items.filter((i) => i.source === `file:${file}`).length;
}

/** Median wall time of `runs` 1-object applies, each moving a Service's port. */
async function smallApplies(adminPort: number, runs: number, offset: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const object = { apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "small" }, spec: { endpoints: [{ address: "127.0.0.1", port: 20000 + offset + i }] } };
    const started = performance.now();
    await apply(adminPort, [object]);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { objects: { type: "string" }, "small-runs": { type: "string" }, body: { type: "string" }, via: { type: "string", default: "api" }, quick: { type: "boolean", default: false } },
  });
  if (values.via !== "api" && values.via !== "file") throw new Error(`--via must be api or file, got ${JSON.stringify(values.via)}`);
  const via: Via = values.via;
  const body = values.body ?? (via === "file" ? "yaml" : "json");
  if (body !== "json" && body !== "yaml") throw new Error(`--body must be json or yaml, got ${JSON.stringify(body)}`);
  if (via === "file" && body !== "yaml") throw new Error("--via file writes a YAML file: leave out --body, or give --body yaml");
  const format: BodyFormat = body;
  const objects = positiveInt("objects", values.objects, values.quick ? 500 : 20_000);
  const smallRuns = positiveInt("small-runs", values["small-runs"], values.quick ? 3 : 5);
  const dir = mkdtempSync(join(tmpdir(), "bench-large-apply-"));
  const conf = join(dir, "conf");
  mkdirSync(conf);
  const lines: string[] = [];
  const cp = await serve({
    xdsHost: "127.0.0.1",
    xdsPort: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    dataDir: join(dir, "data"),
    configPaths: via === "file" ? [conf] : [],
    log: via === "file" ? (line) => lines.push(line) : () => {},
  });
  try {
    await apply(cp.adminPort, canaryServices);
    const smallEmptyMs = await smallApplies(cp.adminPort, smallRuns, 0);
    const config = largeConfig(objects);
    const text = bodyOf(config, format);
    const bodyBytes = Buffer.byteLength(text);
    const watch = await watchResponsiveness({ adminPort: cp.adminPort, canary: new RawXdsClient({ port: cp.xdsPort, nodeId: "canary" }) });
    const started = performance.now();
    if (via === "file") await saveFile({ dir, conf, body: text, lines });
    const result = via === "file" ? undefined : await apply(cp.adminPort, text, format);
    const applyMs = performance.now() - started;
    const seen = await watch.stop();
    const changes = result?.changes ?? (await countFromFile(cp.adminPort, join(conf, "bulk.yaml")));
    if (changes !== objects) throw new Error(`the ${via === "file" ? "file" : "apply"} stored ${changes} objects, not ${objects}`);
    const smallStoredMs = await smallApplies(cp.adminPort, smallRuns, 1000);

    const how = via === "file" ? "one watched file saved" : "one POST /api/v1/apply";
    console.log(`large apply: ${objects} objects in ${how} (${(bodyBytes / 1e6).toFixed(2)} MB of ${format === "json" ? "JSON" : "YAML"}), control plane in this process`);
    console.log(
      textTable([
        ["measure", "value"],
        [via === "file" ? "apply wall time (saved -> stored, compiled, pushed)" : "apply wall time (answered = stored, compiled, pushed)", ms(applyMs)],
        ["max event-loop stall: 10 ms interval gap", ms(seen.maxTimerGapMs)],
        ["longest block in CPU time (thread CPU between two ticks)", ms(seen.maxBlockCpuMs)],
        ["max event-loop stall: monitorEventLoopDelay max", ms(seen.loopDelayMaxMs)],
        ["GET /healthz slowest answer during the apply", `${ms(seen.healthzMaxMs)} (${seen.healthzAnswers} answers)`],
        ["xDS canary slowest answer during the apply", `${ms(seen.canaryMaxMs)} (${seen.canaryAnswers} answers)`],
        ["  the same two, in this thread's CPU time", `${ms(seen.healthzMaxCpuMs)} / ${ms(seen.canaryMaxCpuMs)}`],
        ["1-object apply, nearly empty store (median)", ms(smallEmptyMs)],
        [`1-object apply, ${objects} objects stored (median)`, ms(smallStoredMs)],
      ]),
    );
    console.log(
      JSON.stringify({
        bench: "large-apply",
        objects,
        body: format,
        via,
        bodyBytes,
        applyMs,
        maxTimerGapMs: seen.maxTimerGapMs,
        maxBlockCpuMs: seen.maxBlockCpuMs,
        loopDelayMaxMs: seen.loopDelayMaxMs,
        healthzMaxMs: seen.healthzMaxMs,
        healthzAnswers: seen.healthzAnswers,
        canaryMaxMs: seen.canaryMaxMs,
        canaryAnswers: seen.canaryAnswers,
        healthzMaxCpuMs: seen.healthzMaxCpuMs,
        canaryMaxCpuMs: seen.canaryMaxCpuMs,
        smallApplyEmptyMs: smallEmptyMs,
        smallApplyStoredMs: smallStoredMs,
        node: process.version,
        cpus: cpus().length,
        loadavg: loadavg(),
      }),
    );
  } finally {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(import.meta, main);
