import { UsageError } from "../main.ts";
import type { RevisionChange } from "../store/object-store.ts";
import type { AdminClient } from "./admin-client.ts";
import { type CliIo, changesLine, localErrors } from "./cli-io.ts";
import { parseObjectRefs, refKey } from "./kind-names.ts";
import { readInputs } from "./read-inputs.ts";
import type { ChangeWaitReport } from "../reconciler/change-waiter.ts";
import { printWait } from "./wait-flags.ts";

export interface DeleteOptions {
  readonly positionals: readonly string[];
  /** -f: delete the objects these files name. */
  readonly files: readonly string[];
  readonly dryRun: boolean;
  readonly expectedRevision?: number;
  /** The `wait=` query (wait-flags.ts), "" without --wait. */
  readonly wait?: string;
}

/**
 * `tcp delete KIND/NAME... | KIND NAME... | -f FILE|DIR|-`: every object in one
 * revision, refused as a whole (like apply) when what remains would reference one.
 */
export async function deleteCommand(client: AdminClient, io: CliIo, options: DeleteOptions): Promise<number> {
  let keys: string[];
  if (options.files.length > 0) {
    if (options.positionals.length > 0) throw new UsageError("delete takes either -f FILE or KIND/NAME arguments, not both");
    const inputs = await readInputs(options.files, io.stdin);
    if (localErrors(io, inputs) > 0) return 1;
    keys = inputs.objects.map((o) => `${o.kind}/${o.metadata.name}`);
    if (keys.length === 0) throw new UsageError(`${options.files.join(", ")} name no objects to delete`);
  } else {
    const refs = parseObjectRefs(options.positionals);
    if (refs.length === 0) throw new UsageError("say what to delete: KIND/NAME, KIND NAME or -f FILE");
    const whole = refs.find((r) => r.name === undefined);
    if (whole !== undefined) throw new UsageError(`delete needs a name: tcp delete ${whole.kind}/NAME (it does not delete every ${whole.kind})`);
    keys = refs.map(refKey);
  }
  keys = [...new Set(keys)];
  const wait = options.dryRun ? "" : (options.wait ?? "");
  const [only] = keys;
  if (keys.length === 1 && only !== undefined) {
    // One object: DELETE on it, which also takes --expected-revision.
    const q = [options.dryRun ? "dryRun=true" : "", options.expectedRevision !== undefined ? `expectedRevision=${options.expectedRevision}` : "", wait].filter(Boolean).join("&");
    const [kind = "", name = ""] = only.split("/");
    const r = await client.request<{ revision: number; wait?: ChangeWaitReport }>("DELETE", `/api/v1/objects/${encodeURIComponent(kind)}/${encodeURIComponent(name)}${q ? `?${q}` : ""}`);
    io.out(options.dryRun ? `valid (dry run): ${only} can be deleted\n` : `deleted ${only}: revision ${r.revision}\n`);
    return printWait(io, r.wait);
  }
  if (options.expectedRevision !== undefined) throw new UsageError("--expected-revision goes with one object; delete them one at a time");
  const q = options.dryRun ? "?dryRun=true" : wait === "" ? "" : `?${wait}`;
  const r = await client.request<{ changed: boolean; revision: number; changes: RevisionChange[]; wait?: ChangeWaitReport }>("POST", `/api/v1/delete${q}`, {
    body: JSON.stringify({ keys }),
  });
  io.out(options.dryRun ? `valid (dry run): would make these changes:\n${changesLine(r.changes)}\n` : `deleted: revision ${r.revision}\n${changesLine(r.changes)}\n`);
  return printWait(io, r.wait);
}
