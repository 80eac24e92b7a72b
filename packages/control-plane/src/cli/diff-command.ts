import type { RevisionChange } from "../store/object-store.ts";
import { AdminApiError, type AdminClient } from "./admin-client.ts";
import { type CliIo, localErrors, printDiagnostics } from "./cli-io.ts";
import { diffObjects, type FieldChange, formatFieldChange } from "../model/object-diff.ts";
import { readInputs } from "./read-inputs.ts";

interface DiffAnswer {
  readonly revision: number;
  readonly groups: readonly { group: string; resources: readonly { typeUrl: string; name: string; action: string }[] }[];
  readonly changes: readonly RevisionChange[];
}

/** Exit codes as kubectl diff: 0 nothing would change, 1 something would; 2 when refused or invalid. */
export const DiffExit = { Same: 0, Changes: 1, Error: 2 } as const;

/**
 * `tcp diff -f FILE|DIR|-`: per object the fields that would change (against what
 * the server stores), then the Envoy resources per node group.
 */
export async function diffCommand(client: AdminClient, io: CliIo, options: { files: readonly string[]; output?: string }): Promise<number> {
  const inputs = await readInputs(options.files, io.stdin);
  if (localErrors(io, inputs) > 0) return DiffExit.Error;
  let d: DiffAnswer;
  try {
    d = await client.request<DiffAnswer>("POST", "/api/v1/diff", { body: JSON.stringify({ items: inputs.objects }) });
  } catch (error) {
    if (!(error instanceof AdminApiError) || error.status === 0) throw error;
    io.err(`refused: ${error.message}\n`);
    printDiagnostics(io, error.diagnostics, inputs);
    return DiffExit.Error;
  }
  const local = new Map(inputs.objects.map((o) => [`${o.kind}/${o.metadata.name}`, o as unknown]));
  const objects: { key: string; action: string; fields: FieldChange[] }[] = [];
  for (const c of d.changes) {
    let fields: FieldChange[] = [];
    if (c.action === "updated") {
      const [kind = "", name = ""] = c.key.split("/");
      const stored = await client.request<{ object: unknown }>("GET", `/api/v1/objects/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`);
      // Compare as JSON, as both sides travel.
      fields = diffObjects(stored.object, JSON.parse(JSON.stringify(local.get(c.key) ?? null)));
    }
    objects.push({ key: c.key, action: c.action, fields });
  }
  const code = d.changes.length > 0 || d.groups.length > 0 ? DiffExit.Changes : DiffExit.Same;
  if (options.output === "json") {
    io.out(`${JSON.stringify({ ...d, objects }, null, 2)}\n`);
    return code;
  }
  if (code === DiffExit.Same) {
    io.out(`no change: revision ${d.revision} already has these objects\n`);
    return code;
  }
  const mark: Record<string, string> = { created: "+", updated: "~", deleted: "-", added: "+", changed: "~", removed: "-" };
  for (const o of objects) {
    io.out(`${mark[o.action] ?? "?"} ${o.key}${o.action === "created" ? " (new)" : ""}\n`);
    for (const f of o.fields) io.out(`    ${formatFieldChange(f)}\n`);
  }
  if (d.groups.length === 0) io.out("no Envoy resource would change\n");
  for (const g of d.groups) {
    io.out(`node group ${g.group}:\n`);
    for (const r of g.resources) io.out(`  ${mark[r.action] ?? "?"} ${r.typeUrl.split(".").pop()} ${r.name}\n`);
  }
  return code;
}
