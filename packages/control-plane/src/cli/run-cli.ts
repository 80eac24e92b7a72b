import { stringify } from "yaml";
import { compile } from "../compile.ts";
import { runServe, UsageError } from "../main.ts";
import type { Diagnostic } from "../model/model-object.ts";
import { formatDiagnostic } from "../sources/format-diagnostic.ts";
import type { RevisionInfo, RevisionChange } from "../store/object-store.ts";
import { AdminApiError, createAdminClient } from "./admin-client.ts";
import { type CliArgs, flag, intFlag, parseCliArgs } from "./cli-args.ts";
import { backupCommand, restoreCommand } from "./backup-command.ts";
import { resolveToken } from "./resolve-token.ts";
import { commandHelp } from "./command-help.ts";
import { completionScript } from "./completion-script.ts";
import { deleteCommand } from "./delete-command.ts";
import { diffCommand } from "./diff-command.ts";
import { getCommand } from "./get-command.ts";
import { type CliIo, changesLine, localErrors, printDiagnostics } from "./cli-io.ts";
import { parseObjectRefs, refKey } from "./kind-names.ts";
import { runProxyConfig } from "./proxy-config-command.ts";
import { readInputs, readStdin } from "./read-inputs.ts";
import { parseInterval, statusCommand } from "./status-command.ts";
import { formatTable } from "./table.ts";
import { tokenCommand } from "./token-command.ts";
import { versionCommand } from "./version-command.ts";
import { printWait, waitFlags, waitQuery } from "./wait-flags.ts";
import { rolloutCommand, rolloutLines, rolloutQuery } from "./rollout-command.ts";
import type { Rollout } from "../rollout/rollout.ts";
import { describeRolloutSummary, type RolloutSummary } from "../rollout/rollout-summary.ts";
import type { ChangeWaitReport } from "../reconciler/change-waiter.ts";

export type { CliIo } from "./cli-io.ts";

export const defaultServer = "http://127.0.0.1:9000";

export const usage = `usage: tcp <command> [flags]

commands:
  serve [--xds-port 18000] [--admin-port 9000] [--data-dir DIR] [--config FILE|DIR]...
                                   run the control plane (see docs/cli/serve.md for every flag)
  apply -f FILE|DIR|- [--dry-run] [--wait [--timeout 30s]]
                                   create or update the objects in the files; --wait: until every affected Envoy ACKs
  apply -f F --canary 10%|--canary-group NAME [--bake 60s] [--ack-timeout 30s] [--manual-promote]
                                   roll the change out to a canary first, then to every proxy
  rollout status|list|promote|abort [-o json]
                                   the running (or latest) rollout and which proxy runs which revision
  get [KIND [NAME...] | KIND/NAME...] [-o table|wide|name|yaml|json]
                                   list objects, or show some (KIND: svc, services, Service, ...)
  delete KIND/NAME... | KIND NAME... | -f FILE|DIR|- [--expected-revision N] [--dry-run] [--wait [--timeout 30s]]
                                   delete objects, in one revision
  validate -f FILE|DIR|-           check files offline (no server needed); exit 1 on errors
  diff -f FILE|DIR|-               changed fields and Envoy resources; exit 1 when something would change
  bootstrap --node ID [--cluster C] [--admin-port 9901] [--delta] [--xds-address HOST:PORT ...]
                                   print an Envoy bootstrap for this control plane
  status [-o json] [--check] [--watch [--interval 2s]]
                                   what every Envoy acknowledged or rejected; --check exits 1 unless all SYNCED
  proxy-config NODE [clusters|listeners|routes|endpoints|secrets|all] [-o yaml|json]
                                   what one Envoy was sent: versions, ACKED/NACKED, bodies (secrets redacted)
  history [N | KIND/NAME...] [--limit N] [-o json]
                                   accepted changes, newest first (of those objects); or every object of revision N
  history purge --before N | --keep N
                                   delete older revisions for good (a rotated key), then compact the store file
  rollback --to N [--dry-run] [--wait [--timeout 30s]]
                                   make the configuration equal to revision N again
  backup FILE [--data-dir DIR]     a consistent copy of the store, also while serve runs
  restore FILE [--data-dir DIR]    replace a stopped control plane's store with a checked backup
  token create --name N --role read|write|admin | token list | token revoke NAME
                                   manage the admin API's bearer tokens (serve --admin-auth token)
  version                          CLI version, and the server's when it answers
  completion bash|zsh              print a shell completion script

\`tcp <command> --help\` prints a command's usage with examples.

global flags:
  --server URL   the admin API (default ${defaultServer}, env CONTROL_PLANE_SERVER)
  --token T      bearer token (env TCP_TOKEN; else <--data-dir, default ./.data>/admin-token)

exit codes: 0 ok, 1 refused or invalid, 2 usage error, 3 control plane unreachable,
(--wait) 4 an Envoy NACKed the change, 5 an Envoy did not answer in time
(diff: 0 nothing would change, 1 something would, 2 refused or usage error)`;

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
    const help = args.command === "help" ? args.positionals[0] : args.flags.has("--help") ? args.command : undefined;
    if (args.command === undefined || args.command === "help" || args.flags.has("--help")) {
      io.out(`${(help !== undefined ? commandHelp[help] : undefined) ?? usage}\n`);
      return args.command === undefined && !args.flags.has("--help") ? 2 : 0;
    }
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const command = argv.find((a) => !a.startsWith("-"));
      const more = command !== undefined && commandHelp[command] !== undefined ? `run 'tcp ${command} --help' for its usage and examples` : usage;
      io.err(`error: ${error.message}\n\n${more}\n`);
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

async function dispatch(args: CliArgs, io: CliIo): Promise<number> {
  const server = flag(args, "--server") ?? io.env["CONTROL_PLANE_SERVER"] ?? defaultServer;
  const token = resolveToken(args, io.env, server);
  const waitMs = waitFlags(args);
  if (waitMs !== undefined && !["apply", "delete", "rollback"].includes(args.command ?? "")) throw new UsageError("--wait goes with apply, delete and rollback");
  // The answer comes once the proxies did: the request may take the whole wait, and then some.
  const client = createAdminClient({ server, source: "cli", ...(token !== undefined ? { token } : {}), ...(waitMs !== undefined ? { timeoutMs: waitMs + 30_000 } : {}) });
  const wait = waitQuery(waitMs);
  const files = args.flags.get("--file") ?? [];
  const dryRun = args.flags.has("--dry-run");
  const output = flag(args, "--output");
  const outputs = args.command === "get" ? ["yaml", "json", "table", "wide", "name"] : ["yaml", "json", "table"];
  if (output !== undefined && !outputs.includes(output)) throw new UsageError(`-o takes ${outputs.join(", ")}, not ${JSON.stringify(output)}`);
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
    case "diff":
      noPositionals();
      return diffCommand(client, io, { files, ...(output !== undefined ? { output } : {}) });
    case "apply": {
      noPositionals();
      const inputs = await readInputs(files, io.stdin);
      if (localErrors(io, inputs) > 0) return 1;
      const body = JSON.stringify({ items: inputs.objects });
      try {
        const q = [dryRun ? "dryRun=true" : "", dryRun ? "" : wait, rolloutQuery(args)].filter(Boolean).join("&");
        const r = await client.request<{ changed: boolean; revision: number; changeId?: string; changes: RevisionChange[]; diagnostics: Diagnostic[]; wait?: ChangeWaitReport; rollout?: Rollout }>(
          "POST",
          `/api/v1/apply${q === "" ? "" : `?${q}`}`,
          { body },
        );
        printDiagnostics(io, r.diagnostics, inputs);
        if (dryRun) io.out(`valid (dry run): would ${r.changes.length === 0 ? "change nothing" : `make these changes:\n${changesLine(r.changes)}`}\n`);
        else if (!r.changed) io.out(`unchanged: revision ${r.revision} already has these objects\n`);
        else io.out(`applied: revision ${r.revision}${r.changeId === undefined ? "" : ` (change ${r.changeId})`}\n${changesLine(r.changes)}\n`);
        if (r.rollout !== undefined) io.out(rolloutLines(r.rollout));
        return printWait(io, r.wait);
      } catch (error) {
        if (!(error instanceof AdminApiError) || error.diagnostics.length === 0) throw error;
        io.err(`refused: ${error.message}\n`);
        printDiagnostics(io, error.diagnostics, inputs);
        return 1;
      }
    }
    case "rollout":
      return rolloutCommand(client, io, { positionals: args.positionals, output });
    case "get":
      return getCommand(client, io, { positionals: args.positionals, ...(output !== undefined ? { output } : {}) });
    case "delete": {
      const expected = intFlag(args, "--expected-revision");
      return deleteCommand(client, io, { positionals: args.positionals, files, dryRun, wait, ...(expected !== undefined ? { expectedRevision: expected } : {}) });
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
      // Repeatable: one per control-plane replica, in the order given.
      for (const address of args.flags.get("--xds-address") ?? []) q.append("xdsAddress", address);
      for (const [name, param] of [["--xds-retry-base", "xdsRetryBase"], ["--xds-retry-max", "xdsRetryMax"], ["--xds-connect-timeout", "xdsConnectTimeout"]] as const) {
        const value = flag(args, name);
        if (value !== undefined) q.set(param, value);
      }
      io.out(await client.request<string>("GET", `/api/v1/bootstrap?${q}`, { text: true }));
      return 0;
    }
    case "status": {
      noPositionals();
      const interval = flag(args, "--interval");
      const maxPolls = intFlag(args, "--max-polls");
      const watch = args.flags.has("--watch");
      if (!watch && (interval !== undefined || maxPolls !== undefined)) throw new UsageError("--interval goes with --watch");
      const stop = watch && io.signal === undefined ? interruptSignal() : undefined;
      try {
        return await statusCommand(client, io.out, io.err, {
          ...(output !== undefined ? { output } : {}),
          check: args.flags.has("--check"),
          watch,
          ...(interval !== undefined ? { intervalMs: parseInterval(interval) } : {}),
          ...(maxPolls !== undefined ? { maxPolls } : {}),
          ...(io.signal !== undefined ? { signal: io.signal } : stop !== undefined ? { signal: stop.signal } : {}),
        });
      } finally {
        stop?.dispose();
      }
    }
    case "backup":
    case "restore": {
      const options = { positionals: args.positionals, dataDir: flag(args, "--data-dir") };
      return args.command === "backup" ? backupCommand(io, options) : restoreCommand(io, options);
    }
    case "token":
      return tokenCommand(client, io, { positionals: args.positionals, name: flag(args, "--name"), role: flag(args, "--role"), output });
    case "version":
      noPositionals();
      return versionCommand(client, io, { server, ...(output !== undefined ? { output } : {}) });
    case "completion": {
      const [shell, ...extra] = args.positionals;
      if (extra.length > 0) throw new UsageError("completion takes one shell: bash or zsh");
      io.out(completionScript(shell));
      return 0;
    }
    case "proxy-config":
      return runProxyConfig({ positionals: args.positionals, output }, client, io.out);
    case "history": {
      const [which, ...extra] = args.positionals;
      if (which === "purge") {
        if (extra.length > 0) throw new UsageError("history purge takes no arguments besides --before N or --keep N");
        const before = intFlag(args, "--before");
        const keep = intFlag(args, "--keep");
        if ((before === undefined) === (keep === undefined)) throw new UsageError("history purge needs exactly one of --before N (delete revisions older than N) or --keep N (keep the newest N)");
        const r = await client.request<{ revisions: number; versions: number; oldest: number }>("POST", "/api/v1/history/purge", {
          body: JSON.stringify(before !== undefined ? { before } : { keep }),
        });
        if (output === "json") io.out(`${JSON.stringify(r, null, 2)}\n`);
        else io.out(`purged ${r.revisions} revisions (${r.versions} object versions); history now starts at revision ${r.oldest}\n`);
        return 0;
      }
      // `history Service/x` (or `history svc x`): the revisions that changed that object.
      const refs = which !== undefined && !/^\d+$/.test(which) ? parseObjectRefs(args.positionals) : [];
      if (refs.some((r) => r.name === undefined)) throw new UsageError("history takes a revision number or objects as KIND/NAME, e.g. history Service/backend");
      if (refs.length === 0 && extra.length > 0) throw new UsageError("history takes at most one revision number");
      if (which !== undefined && refs.length === 0) {
        if (!/^\d+$/.test(which)) throw new UsageError(`history takes a revision number, got ${JSON.stringify(which)}`);
        const r = await client.request<RevisionInfo & { objects: Record<string, unknown>[] }>("GET", `/api/v1/history/${which}`);
        if (output === "json") io.out(`${JSON.stringify(r, null, 2)}\n`);
        else io.out(`# revision ${r.revision} at ${r.createdAt} by ${r.source}: ${r.summary}\n${r.objects.map((o) => stringify(o)).join("---\n")}`);
        return 0;
      }
      const limit = intFlag(args, "--limit");
      const h = await client.request<{ items: (RevisionInfo & { rollout?: RolloutSummary })[] }>("GET", `/api/v1/history${limit === undefined ? "" : `?limit=${limit}`}`);
      const keys = new Set(refs.map(refKey));
      const items = keys.size === 0 ? h.items : h.items.filter((r) => r.changes.some((c) => keys.has(c.key)));
      if (output === "json") io.out(`${JSON.stringify(items, null, 2)}\n`);
      else table(io, ["REVISION", "TIME", "SOURCE", "SUMMARY", "ROLLOUT"], items.map((r) => [String(r.revision), r.createdAt, r.source, r.summary, describeRolloutSummary(r.rollout)]));
      return 0;
    }
    case "rollback": {
      noPositionals();
      const to = intFlag(args, "--to");
      if (to === undefined) throw new UsageError("rollback needs --to N (see `history` for revision numbers)");
      const r = await client.request<{ changed: boolean; revision: number; changes: RevisionChange[]; wait?: ChangeWaitReport }>("POST", `/api/v1/rollback${wait === "" || dryRun ? "" : `?${wait}`}`, {
        body: JSON.stringify({ to, dryRun }),
      });
      if (dryRun) io.out(`valid (dry run): rolling back to ${to} would make ${r.changes.length} changes\n${changesLine(r.changes)}\n`);
      else if (!r.changed) io.out(`unchanged: the configuration already equals revision ${to}\n`);
      else io.out(`rolled back to revision ${to}: new revision ${r.revision}\n${changesLine(r.changes)}\n`);
      return printWait(io, r.wait);
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(args.command)}`);
  }
}

function table(io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void {
  io.out(formatTable(header, rows));
}

/** An AbortSignal that SIGINT (Ctrl-C) aborts, while the command runs. */
function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.on("SIGINT", onInterrupt);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onInterrupt) };
}
