/**
 * What a SotW client is subscribed to, for one type on one stream.
 *
 * xds-protocol.md § Subscriptions: a SotW request replaces the whole set; for
 * full-state types (listeners, clusters) an empty *first* request is the legacy
 * wildcard, `*` is the explicit wildcard; legacy wildcard is tracked per type,
 * never globally (go-control-plane #1296, #1323, #349).
 */
export interface SotwSubscription {
  /** Every resource of the type, whatever names are listed. */
  readonly wildcard: boolean;
  /** Names explicitly asked for (without "*"). */
  readonly names: ReadonlySet<string>;
  /** The client has sent a non-empty name list at least once on this stream. */
  readonly everNamed: boolean;
  /** "*" for wildcard, else the sorted names joined: equal keys select equal resources. */
  readonly key: string;
}

export const wildcardName = "*";

/**
 * Subscriptions are immutable and shared: streams asking for the same names
 * (1,000 Envoys of one group subscribed to the same 10,000 endpoints) hold one
 * object, one Set, instead of one each (xds-protocol.md § Cost).
 */
const interned = new Map<string, WeakRef<SotwSubscription>>();
const forgetInterned = new FinalizationRegistry<string>((id) => {
  if (interned.get(id)?.deref() === undefined) interned.delete(id);
});
/** The request names each shared subscription was built from: a repeat of them is recognised without a Set or a sort. */
const requestNamesOf = new WeakMap<SotwSubscription, readonly string[]>();

/**
 * The subscription after a request. A request repeating the names of the one
 * before (every ACK does) returns `previous` itself, found by comparing the
 * lists, with nothing allocated; callers can then tell "unchanged" by identity.
 */
export function applySotwRequest(
  previous: SotwSubscription | undefined,
  resourceNames: readonly string[],
  options: { fullState: boolean },
): SotwSubscription {
  if (previous && sameList(requestNamesOf.get(previous), resourceNames)) {
    // Same names as the request that built it: everNamed, and so the wildcard,
    // come out the same (everNamed already counts this very list). Shared
    // objects are keyed by (everNamed, wildcard, names), so whichever stream
    // or type built it, the same list gives back the same fields.
    return previous;
  }
  const names = new Set(resourceNames.filter((n) => n !== wildcardName));
  const explicitWildcard = resourceNames.includes(wildcardName);
  const everNamed = (previous?.everNamed ?? false) || resourceNames.length > 0;
  // Legacy wildcard: an empty list on a full-state type, as long as the client
  // never named resources on this stream. After it has, an empty list means
  // "unsubscribe from everything" (xDS protocol, "How the client specifies what
  // resources to return").
  const legacyWildcard = options.fullState && resourceNames.length === 0 && !everNamed;
  const wildcard = explicitWildcard || legacyWildcard;
  const sorted = [...names].sort().join("\n");
  const id = `${everNamed ? 1 : 0}${wildcard ? 1 : 0}${sorted}`;
  const shared = interned.get(id)?.deref();
  if (shared) return shared;
  const created: SotwSubscription = { wildcard, names, everNamed, key: wildcard ? wildcardName : sorted };
  interned.set(id, new WeakRef(created));
  forgetInterned.register(created, id);
  requestNamesOf.set(created, [...resourceNames]);
  return created;
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
