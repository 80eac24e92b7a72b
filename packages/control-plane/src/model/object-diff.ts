/** One changed field between two objects, at a path like `spec.endpoints[0].port`. */
export interface FieldChange {
  readonly path: string;
  /** Absent when the field is added. */
  readonly before?: unknown;
  /** Absent when the field is removed. */
  readonly after?: unknown;
}

/** Field-level differences from `before` to `after` (plain JSON values), in document order. */
export function diffObjects(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...Object.keys(after), ...Object.keys(before).filter((k) => !(k in after))];
    return keys.flatMap((k) => {
      const p = path === "" ? k : `${path}.${k}`;
      if (!(k in before)) return [{ path: p, after: after[k] }];
      if (!(k in after)) return [{ path: p, before: before[k] }];
      return diffObjects(before[k], after[k], p);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: FieldChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= before.length) changes.push({ path: p, after: after[i] });
      else if (i >= after.length) changes.push({ path: p, before: before[i] });
      else changes.push(...diffObjects(before[i], after[i], p));
    }
    return changes;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

/** `spec.endpoints[0].port: 8081 → 8082`, `+ spec.tls: {...}`, `- spec.timeout: "5s"`. */
export function formatFieldChange(c: FieldChange): string {
  if (!("before" in c)) return `+ ${c.path}: ${JSON.stringify(c.after)}`;
  if (!("after" in c)) return `- ${c.path}: ${JSON.stringify(c.before)}`;
  return `~ ${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
