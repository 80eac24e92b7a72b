import { stringify } from "yaml";
import { compile } from "../compile.ts";
import { runServe, UsageError } from "../main.ts";
import type { Diagnostic } from "../model/model-object.ts";
import { formatDiagnostic } from "../sources/format-diagnostic.ts";
import { withSource } from "../sources/read-config-file.ts";
import type { StatusReport } from "../status/status-report.ts";
import type { RevisionInfo, RevisionChange } from "../store/object-store.ts";
import { AdminApiError, createAdminClient } from "./admin-client.ts";
import { type CliArgs, flag, intFlag, parseCliArgs } from "./cli-args.ts";
import { type Inputs, readInputs, readStdin } from "./read-inputs.ts";

export const defaultServer = "http://127.0.0.1:9000";

export const usage = `usage: tcp <command> [flags]

commands:
  serve [--xds-port 18000] [--admin-port 9000] [--data-dir DIR] [--config FILE|DIR]...
                                   run the control plane (see docs/cli.md for every flag)
  apply -f FILE|DIR|- [--dry-run]  create or update the objects in the files
  get [KIND [NAME]] [-o yaml|json] list objects, or show one
  delete KIND NAME [--expected-revision N]
  validate -f FILE|DIR|-           check files offline (no server needed); exit 1 on errors
  diff -f FILE|DIR|-               which Envoy resources would change, per node group
  bootstrap --node ID [--cluster C] [--admin-port 9901] [--delta]
                                   print an Envoy bootstrap for this control plane
  status [-o json]                 what every Envoy acknowledged or rejected
  history [N] [--limit N] [-o json]
                                   accepted changes, newest first; or every object of revision N
  rollback --to N [--dry-run]      make the configuration equal to revision N again

global flags:
  --server URL   the admin API (default ${defaultServer}, env CONTROL_PLANE_SERVER)

exit codes: 0 ok, 1 refused or invalid, 2 usage error, 3 control plane unreachable`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: () => Promise<string>;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  stdin: readStdin,
};

/** Runs one CLI invocation; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
    if (args.command === "serve") return await runServe(args.rest);
    if (args.command === undefined || args.command === "help" || args.flags.has("--help")) {
      io.out(`${usage}\n`);
      return args.command === undefined && !args.flags.has("--help") ? 2 : 0;
    }
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    if (error instanceof AdminApiError) {
      io.err(`error: ${error.message}\n`);
      for (const d of error.diagnostics) io.err(`  ${formatDiagnostic(d)}\n`);
      return error.status === 0 ? 3 : 1;
    }
    throw error;
  }
}

/** Prints each diagnostic once; returns how many errors were printed, so a summary counts what the user sees. */
function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[], inputs?: Inputs): number {
  const printed = new Set<string>();
  let errors = 0;
  for (const d of diagnostics) {
    let located = d;
    // Positions from the server refer to the JSON the CLI sent; the local files know the real ones.
    const { source: _remote, ...bare } = d;
    for (const p of inputs?.parsed ?? []) {
      const l = withSource(bare, p.locate);
      if (l !== bare) {
        located = l;
        break;
      }
    }
    const line = formatDiagnostic(located);
    if (printed.has(line)) continue;
    printed.add(line);
    if (located.severity === "error") errors++;
    io.err(`${line}\n`);
  }
  return errors;
}

/** Prints what reading the files found; returns the number of errors (0: go on). */
function localErrors(io: CliIo, inputs: Inputs): number {
  return printDiagnostics(io, inputs.diagnostics, inputs);
}

function changesLine(changes: readonly RevisionChange[]): string {
  return changes.map((c) => `  ${c.action} ${c.key}`).join("\n");
}

async function dispatch(args: CliArgs, io: CliIo): Promise<number> {
  const server = flag(args, "--server") ?? io.env["CONTROL_PLANE_SERVER"] ?? defaultServer;
  const client = createAdminClient({ server, source: "cli" });
  const files = args.flags.get("--file") ?? [];
  const dryRun = args.flags.has("--dry-run");
  const output = flag(args, "--output");
  if (output !== undefined && !["yaml", "json", "table"].includes(output)) throw new UsageError(`-o takes yaml, json or table, not ${JSON.stringify(output)}`);
  const noPositionals = () => {
    if (args.positionals.length > 0) throw new UsageError(`${args.command} takes no arguments, got ${JSON.stringify(args.positionals.join(" "))}`);
  };

  switch (args.command) {
    case "validate": {
      noPositionals();
      const inputs = await readInputs(files, io.stdin);
      const readErrors = localErrors(io, inputs);
      if (readErrors > 0) {
        io.err(`invalid: ${readErrors} error${readErrors === 1 ? "" : "s"} in the input (references between objects are checked once ${readErrors === 1 ? "it is" : "they are"} fixed)\n`);
        return 1;
      }
      const result = compile(inputs.objects);
      const errors = printDiagnostics(io, result.diagnostics, inputs);
      if (errors > 0 || result.rejected.length > 0) {
        io.err(`invalid: ${result.rejected.length} of ${inputs.objects.length} objects refused, ${errors} errors\n`);
        return 1;
      }
      io.out(`valid: ${inputs.objects.length} objects, ${result.groups.length} node groups\n`);
      return 0;
    }
    case "apply":
    case "diff": {
      noPositionals();
      const inputs = await readInputs(files, io.stdin);
      if (localErrors(io, inputs) > 0) return 1;
      const body = JSON.stringify({ items: inputs.objects });
      try {
        if (args.command === "diff") {
          const d = await client.request<{ groups: { group: string; resources: { typeUrl: string; name: string; action: string }[] }[]; changes: RevisionChange[] }>(
            "POST",
            "/api/v1/diff",
            { body },
          );
          if (output === "json") io.out(`${JSON.stringify(d, null, 2)}\n`);
          else if (d.groups.length === 0) io.out(`no Envoy resource would change (${d.changes.length} object changes)\n`);
          else {
            const mark: Record<string, string> = { added: "+", changed: "~", removed: "-" };
            for (const g of d.groups) {
              io.out(`node group ${g.group}:\n`);
              for (const r of g.resources) io.out(`  ${mark[r.action] ?? "?"} ${r.typeUrl.split(".").pop()} ${r.name}\n`);
            }
          }
          return 0;
        }
        const r = await client.request<{ changed: boolean; revision: number; changes: RevisionChange[]; diagnostics: Diagnostic[] }>(
          "POST",
          `/api/v1/apply${dryRun ? "?dryRun=true" : ""}`,
          { body },
        );
        printDiagnostics(io, r.diagnostics, inputs);
        if (dryRun) io.out(`valid (dry run): would ${r.changes.length === 0 ? "change nothing" : `make these changes:\n${changesLine(r.changes)}`}\n`);
        else if (!r.changed) io.out(`unchanged: revision ${r.revision} already has these objects\n`);
        else io.out(`applied: revision ${r.revision}\n${changesLine(r.changes)}\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof AdminApiError) || error.diagnostics.length === 0) throw error;
        io.err(`refused: ${error.message}\n`);
        printDiagnostics(io, error.diagnostics, inputs);
        return 1;
      }
    }
    case "get": {
      const [kind, name, ...extra] = args.positionals;
      if (extra.length > 0) throw new UsageError("get takes at most KIND and NAME");
      const path = `/api/v1/objects${kind === undefined ? "" : `/${encodeURIComponent(kind)}`}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
      type Item = { key: string; revision: number; source: string; object: Record<string, unknown> };
      const items: Item[] = name === undefined ? (await client.request<{ items: Item[] }>("GET", path)).items : [await client.request<Item>("GET", path)];
      if (output === "json") io.out(`${JSON.stringify(name === undefined ? items.map((i) => i.object) : items[0]?.object, null, 2)}\n`);
      else if (output === "yaml") io.out(items.map((i) => stringify(i.object)).join("---\n"));
      else table(io, ["KIND/NAME", "REVISION", "SOURCE"], items.map((i) => [i.key, String(i.revision), i.source]));
      return 0;
    }
    case "delete": {
      const [kind, name, ...extra] = args.positionals;
      if (kind === undefined || name === undefined || extra.length > 0) throw new UsageError("delete takes KIND NAME");
      const expected = intFlag(args, "--expected-revision");
      const q = [dryRun ? "dryRun=true" : "", expected !== undefined ? `expectedRevision=${expected}` : ""].filter(Boolean).join("&");
      const r = await client.request<{ revision: number }>("DELETE", `/api/v1/objects/${encodeURIComponent(kind)}/${encodeURIComponent(name)}${q ? `?${q}` : ""}`);
      io.out(dryRun ? `valid (dry run): ${kind}/${name} can be deleted\n` : `deleted ${kind}/${name}: revision ${r.revision}\n`);
      return 0;
    }
    case "bootstrap": {
      noPositionals();
      const node = flag(args, "--node");
      if (node === undefined) throw new UsageError("bootstrap needs --node ID");
      const q = new URLSearchParams({ node });
      const cluster = flag(args, "--cluster");
      if (cluster !== undefined) q.set("cluster", cluster);
      const adminPort = intFlag(args, "--admin-port");
      if (adminPort !== undefined) q.set("adminPort", String(adminPort));
      if (args.flags.has("--delta")) q.set("delta", "true");
      io.out(await client.request<string>("GET", `/api/v1/bootstrap?${q}`, { text: true }));
      return 0;
    }
    case "status": {
      noPositionals();
      const s = await client.request<StatusReport>("GET", "/api/v1/status");
      if (output === "json") {
        io.out(`${JSON.stringify(s, null, 2)}\n`);
        return 0;
      }
      if (output === "yaml") {
        io.out(stringify(s));
        return 0;
      }
      io.out(`revision ${s.revision}\n`);
      table(
        io,
        ["NODE", "GROUP", "CONNECTED", "STATE", "TYPES"],
        s.nodes.map((n) => [n.nodeId, n.group ?? "-", n.connected ? "yes" : "no", n.state, n.types.map((t) => `${t.type}:${t.state}`).join(" ")]),
      );
      for (const n of s.nodes) {
        for (const t of n.types) {
          if (t.state === "NACKED" && t.nack !== undefined) io.out(`${n.nodeId} rejected ${t.type}: ${t.nack.message}\n`);
          if (t.error !== undefined) io.out(`${n.nodeId} not sent ${t.type} (${t.error.code}): ${t.error.message}\n`);
        }
        if (n.matchesGroup !== undefined) io.out(`${n.nodeId} now matches node group ${n.matchesGroup}; it is moving there\n`);
      }
      if (s.objects.length > 0) {
        io.out("\n");
        table(io, ["OBJECT", "GROUPS", "ACKNOWLEDGED"], s.objects.map((o) => [o.object, o.groups.join(","), `${o.acknowledged}/${o.targets}`]));
      }
      return 0;
    }
    case "history": {
      const [which, ...extra] = args.positionals;
      if (extra.length > 0) throw new UsageError("history takes at most one revision number");
      if (which !== undefined) {
        if (!/^\d+$/.test(which)) throw new UsageError(`history takes a revision number, got ${JSON.stringify(which)}`);
        const r = await client.request<RevisionInfo & { objects: Record<string, unknown>[] }>("GET", `/api/v1/history/${which}`);
        if (output === "json") io.out(`${JSON.stringify(r, null, 2)}\n`);
        else io.out(`# revision ${r.revision} at ${r.createdAt} by ${r.source}: ${r.summary}\n${r.objects.map((o) => stringify(o)).join("---\n")}`);
        return 0;
      }
      const limit = intFlag(args, "--limit");
      const h = await client.request<{ items: RevisionInfo[] }>("GET", `/api/v1/history${limit === undefined ? "" : `?limit=${limit}`}`);
      if (output === "json") io.out(`${JSON.stringify(h.items, null, 2)}\n`);
      else table(io, ["REVISION", "TIME", "SOURCE", "SUMMARY"], h.items.map((r) => [String(r.revision), r.createdAt, r.source, r.summary]));
      return 0;
    }
    case "rollback": {
      noPositionals();
      const to = intFlag(args, "--to");
      if (to === undefined) throw new UsageError("rollback needs --to N (see `history` for revision numbers)");
      const r = await client.request<{ changed: boolean; revision: number; changes: RevisionChange[] }>("POST", "/api/v1/rollback", {
        body: JSON.stringify({ to, dryRun }),
      });
      if (dryRun) io.out(`valid (dry run): rolling back to ${to} would make ${r.changes.length} changes\n${changesLine(r.changes)}\n`);
      else if (!r.changed) io.out(`unchanged: the configuration already equals revision ${to}\n`);
      else io.out(`rolled back to revision ${to}: new revision ${r.revision}\n${changesLine(r.changes)}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(args.command)}`);
  }
}

function table(io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const row of [header, ...rows]) io.out(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")}\n`);
}
