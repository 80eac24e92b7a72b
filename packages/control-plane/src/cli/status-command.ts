import { stringify } from "yaml";
import { UsageError } from "../main.ts";
import type { StatusReport } from "../status/status-report.ts";
import type { AdminClient } from "./admin-client.ts";
import { objectStatus, rejectionLines } from "./object-status.ts";
import { formatTable } from "./table.ts";

export interface StatusCommandOptions {
  readonly output?: string;
  /** Exit 1 while any connected proxy is not SYNCED. */
  readonly check?: boolean;
  /** Print again whenever the report changes. */
  readonly watch?: boolean;
  readonly intervalMs?: number;
  /** Stop watching after this many polls (tests; hidden from help). */
  readonly maxPolls?: number;
  /** Stops a watch (SIGINT). */
  readonly signal?: AbortSignal;
}

/** `tcp status`: one report, or (--watch) a report every time it changes. */
export async function statusCommand(client: AdminClient, out: (text: string) => void, err: (text: string) => void, options: StatusCommandOptions): Promise<number> {
  if (options.watch !== true) return printOnce(await fetchStatus(client), out, err, options);
  let last: string | undefined;
  let code = 0;
  for (let polls = 0; options.maxPolls === undefined || polls < options.maxPolls; polls++) {
    if (options.signal?.aborted === true) break;
    const report = await fetchStatus(client);
    const text = render(report, options.output);
    if (text !== last) {
      if (last !== undefined) out("\n");
      code = printOnce(report, out, err, options);
      last = text;
    }
    if (options.maxPolls !== undefined && polls + 1 >= options.maxPolls) break;
    if (!(await sleep(options.intervalMs ?? 2000, options.signal))) break;
  }
  return code;
}

const fetchStatus = (client: AdminClient) => client.request<StatusReport>("GET", "/api/v1/status");

function printOnce(report: StatusReport, out: (text: string) => void, err: (text: string) => void, options: StatusCommandOptions): number {
  out(render(report, options.output));
  if (options.check !== true) return 0;
  const problems = checkProblems(report);
  const connected = report.nodes.filter((n) => n.connected).length;
  if (problems.length === 0) {
    out(connected === 0 ? "check: ok, no Envoy is connected\n" : `check: ok, all ${connected} connected Envoys are SYNCED\n`);
    return 0;
  }
  for (const p of problems) err(`check: ${p}\n`);
  err(`check failed: ${problems.length} of ${connected} connected Envoys are not SYNCED\n`);
  return 1;
}

/** Why each connected proxy is not SYNCED; disconnected proxies are not counted (they get nothing until they reconnect). */
export function checkProblems(report: StatusReport): string[] {
  const problems: string[] = [];
  for (const n of report.nodes) {
    if (!n.connected || n.state === "SYNCED") continue;
    const why = n.types
      .filter((t) => t.state !== "SYNCED")
      .map((t) => (t.nack !== undefined && t.state === "NACKED" ? `${t.type} rejected: ${t.nack.message}` : t.error !== undefined ? `${t.type} not sent: ${t.error.message}` : `${t.type} not acknowledged at the current version`));
    if (n.matchesGroup !== undefined) why.push(`moving to node group ${n.matchesGroup}`);
    if (n.initialSync === "queued") why.push("queued for its initial sync (a reconnect storm: --xds-max-initial-syncs)");
    if (why.length === 0) why.push("nothing sent yet");
    problems.push(`${n.nodeId} is ${n.state}: ${why.join("; ")}`);
  }
  return problems;
}

/** The report as printed; stable while the report is (watch compares it). */
export function render(s: StatusReport, output: string | undefined): string {
  if (output === "json") return `${JSON.stringify(s, null, 2)}\n`;
  if (output === "yaml") return stringify(s);
  if (output !== undefined && output !== "table") throw new UsageError(`status -o takes table, json or yaml, not ${JSON.stringify(output)}`);
  let text = `revision ${s.revision}\n`;
  if (s.store !== undefined && s.store.state !== "ok") text += `store ${s.store.location} is ${s.store.state} since ${s.store.since ?? "?"}: ${s.store.reason ?? ""}\n`;
  // While a rollout runs (issue 11), which revision each proxy is served; the table is as before otherwise.
  const rollout = s.nodes.some((n) => n.revision !== undefined);
  // On PostgreSQL (issue 10 item 4): which replica serves each proxy, and who runs the singleton work.
  const fleet = s.fleet !== undefined;
  if (s.fleet !== undefined) {
    text += `replica ${s.fleet.replica}; live replicas: ${s.fleet.replicas.map((r) => `${r.id} (${r.proxies} prox${r.proxies === 1 ? "y" : "ies"})`).join(", ") || "-"}\n`;
    for (const w of s.fleet.singletons) text += `singleton ${w.work} runs on ${w.replica}\n`;
  }
  text += formatTable(
    ["NODE", "GROUP", ...(fleet ? ["REPLICA"] : []), ...(rollout ? ["REVISION"] : []), "CONNECTED", "STATE", "LAST SEEN", "TYPES"],
    s.nodes.map((n) => [
      n.nodeId,
      n.group ?? "-",
      ...(fleet ? [n.replica ?? "-"] : []),
      ...(rollout ? [n.revision === undefined ? "-" : String(n.revision)] : []),
      n.connected ? "yes" : "no",
      n.state,
      // Absolute for disconnected proxies (when they went away); "now" keeps a watch quiet while connected.
      n.connected ? "now" : n.lastSeen.replace(/\.\d+Z$/, "Z"),
      n.types.map((t) => `${t.type}:${t.state}`).join(" "),
    ]),
  );
  for (const n of s.nodes) {
    for (const t of n.types) {
      if (t.nack !== undefined && t.state === "NACKED") text += `${n.nodeId} rejected ${t.type}: ${t.nack.message}\n`;
      if (t.error !== undefined) text += `${n.nodeId} not sent ${t.type} (${t.error.code}): ${t.error.message}\n`;
    }
    if (n.matchesGroup !== undefined) text += `${n.nodeId} now matches node group ${n.matchesGroup}; it is moving there\n`;
  }
  // Only what asks for attention (a storm queued, clients not reading), so a watch stays quiet otherwise.
  const load = s.xds;
  if (load !== undefined && load.queuedStreams > 0) text += `xDS: ${load.queuedStreams} stream${load.queuedStreams === 1 ? "" : "s"} queued for their initial sync, ${load.syncingStreams} syncing (--xds-max-initial-syncs)\n`;
  if (load !== undefined && load.streamsOverBudget > 0) text += `xDS: ${load.streamsOverBudget} stream${load.streamsOverBudget === 1 ? "" : "s"} over their write budget, not reading (--xds-max-buffered-bytes)\n`;
  // Refused proxies never opened a stream, so they are not nodes: say why they get nothing.
  for (const r of s.refusals ?? []) text += `${r.nodeId} refused (${r.count} time${r.count === 1 ? "" : "s"}, last ${r.at.replace(/\.\d+Z$/, "Z")}): ${r.reason}\n`;
  if (s.objects.length > 0) {
    text += "\n";
    text += formatTable(["OBJECT", "GROUPS", "ACKNOWLEDGED", "STATUS"], s.objects.map((o) => [o.object, o.groups.join(","), `${o.acknowledged}/${o.targets}`, objectStatus(o)]));
    for (const o of s.objects) for (const line of rejectionLines(o)) text += `${line}\n`;
  }
  return text;
}

/** `2s`, `500ms`, `1m` or plain seconds, as --interval takes it. */
export function parseInterval(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  const n = m === null ? Number.NaN : Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000);
  if (!Number.isFinite(n) || n < 100) throw new UsageError(`--interval takes a duration of at least 100ms like 2s, 500ms or 1m, got ${JSON.stringify(value)}`);
  return n;
}

/** Resolves true after ms, false at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
