import { redactSecrets } from "../log/redact-secrets.ts";
import type { ModelObject } from "../model/model-object.ts";
import { diffObjects, type FieldChange, formatFieldChange } from "../model/object-diff.ts";
import type { ObjectStore } from "../store/object-store.ts";

/** One object that differs between two revisions. */
export interface ObjectDifference {
  readonly key: string;
  readonly action: "created" | "updated" | "deleted";
  /** Field-level changes (model/object-diff.ts, the same rule `tcp diff` prints). */
  readonly fields: readonly FieldChange[];
  /** The same changes as `tcp diff` prints them: `~ spec.port: 80 → 8080`, `+ ...`, `- ...`. */
  readonly lines: readonly string[];
}

export interface RevisionDiff {
  readonly from: number;
  readonly to: number;
  readonly objects: readonly ObjectDifference[];
}

/**
 * What changed from revision `from` to revision `to`, object by object, sorted by key.
 * Both sides are redacted before they are compared, so a changed private key shows as
 * two different placeholders, never as the key (issue 13).
 */
export function revisionDiff(store: Pick<ObjectStore, "objectsAt">, range: { readonly from: number; readonly to: number }): RevisionDiff {
  const keyed = (objects: readonly ModelObject[]) => new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, redactSecrets(o)]));
  const before = keyed(store.objectsAt(range.from));
  const after = keyed(store.objectsAt(range.to));
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const objects: ObjectDifference[] = [];
  const add = (key: string, action: ObjectDifference["action"], fields: FieldChange[]) => objects.push({ key, action, fields, lines: fields.map(formatFieldChange) });
  for (const key of keys) {
    const a = before.get(key);
    const b = after.get(key);
    if (a === undefined) add(key, "created", diffObjects({}, b));
    else if (b === undefined) add(key, "deleted", diffObjects(a, {}));
    else {
      const fields = diffObjects(a, b);
      if (fields.length > 0) add(key, "updated", fields);
    }
  }
  return { from: range.from, to: range.to, objects };
}
