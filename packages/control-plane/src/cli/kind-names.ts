import { UsageError } from "../main.ts";
import { didYouMean } from "../model/did-you-mean.ts";
import { Kind, kinds } from "../model/kinds.ts";

/** Short names, as kubectl has `svc`; docs/cli.md has the table. */
export const kindAliases: Readonly<Record<Kind, readonly string[]>> = {
  [Kind.Listener]: ["listeners", "lis"],
  [Kind.Route]: ["routes", "rt"],
  [Kind.Service]: ["services", "svc"],
  [Kind.Tracing]: ["tracings", "trace"],
  [Kind.AccessLog]: ["accesslogs", "al"],
  [Kind.NodeGroup]: ["nodegroups", "ng"],
  [Kind.RawResource]: ["rawresources", "raw"],
  [Kind.Secret]: ["secrets", "sec"],
};

const byName = new Map<string, Kind>();
for (const k of kinds) {
  byName.set(k.toLowerCase(), k);
  for (const a of kindAliases[k]) byName.set(a, k);
}

/** Every word `resolveKind` accepts, lower case (for completion). */
export const kindWords: readonly string[] = [...byName.keys()].sort();

/**
 * The kind a user typed, case-insensitive, singular, plural or short. An unknown
 * kind is a usage error with a did-you-mean: never an empty list, which would
 * read as "there are none".
 */
export function resolveKind(word: string): Kind {
  const k = byName.get(word.toLowerCase());
  if (k !== undefined) return k;
  const near = didYouMean(word.toLowerCase(), kindWords);
  const hint = near !== undefined ? `did you mean '${near}' (${byName.get(near)})?` : `kinds are: ${kinds.join(", ")}`;
  throw new UsageError(`unknown kind ${JSON.stringify(word)}; ${hint}`);
}

export interface ObjectRef {
  readonly kind: Kind;
  /** Undefined for "every object of the kind". */
  readonly name?: string;
}

/**
 * Positionals naming objects as kubectl takes them: `KIND`, `KIND NAME [NAME...]`,
 * or `KIND/NAME [KIND/NAME...]` (the two forms are not mixed).
 */
export function parseObjectRefs(positionals: readonly string[]): ObjectRef[] {
  const [first, ...more] = positionals;
  if (first === undefined) return [];
  if (first.includes("/")) {
    return positionals.map((p) => {
      const slash = p.indexOf("/");
      const kind = p.slice(0, slash);
      const name = p.slice(slash + 1);
      if (slash < 0 || kind === "" || name === "") throw new UsageError(`${JSON.stringify(p)} is not KIND/NAME; write every object as KIND/NAME, e.g. Service/backend`);
      return { kind: resolveKind(kind), name };
    });
  }
  const kind = resolveKind(first);
  if (more.length === 0) return [{ kind }];
  return more.map((name) => {
    if (name.includes("/")) throw new UsageError(`${JSON.stringify(name)}: after a KIND give plain names, or write every object as KIND/NAME`);
    return { kind, name };
  });
}

export const refKey = (r: ObjectRef): string => `${r.kind}/${r.name ?? ""}`;
