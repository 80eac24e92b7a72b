import { oneOf } from "../model/did-you-mean.ts";
import { formatPath, type PathSegment } from "../model/field-path.ts";
import type { Kind } from "../model/kinds.ts";
import type { Diagnostic } from "../model/model-object.ts";

/**
 * Resolves references by kind and name against the objects still alive, and explains
 * a broken one: missing (name the ones that exist) or refused (point at its own errors).
 */
export class References {
  /** kind -> names of objects that passed their own validation. */
  private readonly valid: ReadonlyMap<Kind, ReadonlySet<string>>;
  /** objectKeys refused so far (by their own validation or by a broken reference). */
  readonly dropped: Set<string>;

  constructor(valid: ReadonlyMap<Kind, ReadonlySet<string>>, dropped: ReadonlySet<string>) {
    this.valid = valid;
    this.dropped = new Set(dropped);
  }

  alive(kind: Kind, name: string): boolean {
    return (this.valid.get(kind)?.has(name) ?? false) && !this.dropped.has(`${kind}/${name}`);
  }

  aliveNames(kind: Kind): string[] {
    return [...(this.valid.get(kind) ?? [])].filter((n) => !this.dropped.has(`${kind}/${n}`)).sort();
  }

  /** Checks one reference; on failure pushes a diagnostic on `from` and returns false. */
  check(from: string, path: readonly PathSegment[], kind: Kind, name: string, diagnostics: Diagnostic[]): boolean {
    if (this.alive(kind, name)) return true;
    const key = `${kind}/${name}`;
    const others = this.aliveNames(kind);
    const refused = this.dropped.has(key);
    diagnostics.push({
      severity: "error",
      code: refused ? "ref.rejected" : "ref.not_found",
      message: refused ? `${kind} '${name}' was refused, so ${from} cannot use it` : `${kind} '${name}' does not exist`,
      hint: refused
        ? `fix the errors reported on ${key} first`
        : others.length > 0
          ? `define ${kind} '${name}' or use one of: ${oneOf(others)}`
          : `define ${kind} '${name}'`,
      object: from,
      path: formatPath(path),
    });
    return false;
  }
}
