import type { Diagnostic } from "../model/model-object.ts";
import type { ChangeSet, ObjectStore } from "../store/object-store.ts";
import { owningFile } from "./file-sources.ts";

/**
 * Objects a change would update that a watched file defines (issue 8): an API
 * change silently took them over, and the next edit of the file silently took
 * them back. Each gets a warning saying so, with the file to edit instead.
 * A warning, not a refusal: switching traffic through the API on top of
 * watched files is a workflow of its own (docs/cli/apply.md).
 */
export function fileTakeovers(store: Pick<ObjectStore, "get" | "preview">, change: ChangeSet): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const c of store.preview(change).changes) {
    if (c.action !== "updated") continue;
    const stored = store.get(c.key)?.source ?? "";
    const file = owningFile(stored);
    if (file === undefined || stored === change.source) continue;
    out.push({
      severity: "warning",
      code: "object.file_takeover",
      message: `${c.key} was defined by the watched file ${file}; this change takes it over until that file changes again and takes it back`,
      hint: `edit ${file} instead, to keep one place that defines ${c.key}`,
      object: c.key,
      path: "metadata.name",
    });
  }
  return out;
}
