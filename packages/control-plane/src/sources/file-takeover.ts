import type { Diagnostic } from "../model/model-object.ts";
import type { ChangeSet, ObjectStore } from "../store/object-store.ts";
import { owningFile } from "./file-sources.ts";

/**
 * Objects a change would update that a watched file defines (issue 8): an API
 * change silently took them over, and the next edit of the file silently took
 * them back. Without `force` each is an error, so the change is refused; with
 * it, a warning saying who owns the object until the file changes again.
 */
export function fileTakeovers(store: Pick<ObjectStore, "get" | "preview">, change: ChangeSet, options: { force: boolean }): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const c of store.preview(change).changes) {
    if (c.action !== "updated") continue;
    const stored = store.get(c.key)?.source ?? "";
    const file = owningFile(stored);
    if (file === undefined || stored === change.source) continue;
    out.push(
      options.force
        ? {
            severity: "warning",
            code: "object.file_takeover",
            message: `${c.key} was defined by the watched file ${file}; this change takes it over, until that file changes again and takes it back`,
            hint: `edit ${file} instead to keep one place that defines ${c.key}`,
            object: c.key,
            path: "metadata.name",
          }
        : {
            severity: "error",
            code: "object.file_owned",
            message: `${c.key} is defined by the watched file ${file}: an API change would be undone by the file's next edit`,
            hint: `edit ${file} instead, or apply with --force (?force=true) to take the object over`,
            object: c.key,
            path: "metadata.name",
          },
    );
  }
  return out;
}
