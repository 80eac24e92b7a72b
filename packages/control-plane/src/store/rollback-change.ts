import type { ChangeSet, ObjectStore } from "./object-store.ts";

/**
 * The change set that makes the current object set equal to revision `to`:
 * rollback is a new revision (history only ever grows), never a rewrite.
 */
export function rollbackChange(store: ObjectStore, to: number, options: { source?: string } = {}): ChangeSet {
  const target = store.objectsAt(to);
  const keep = new Set(target.map((o) => `${o.kind}/${o.metadata.name}`));
  const deletes = store
    .list()
    .map((s) => s.key)
    .filter((key) => !keep.has(key));
  return { upserts: target, deletes, source: options.source ?? `rollback:${to}`, summary: `rollback to revision ${to}` };
}
