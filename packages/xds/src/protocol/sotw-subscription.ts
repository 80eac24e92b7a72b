/**
 * What a SotW client is subscribed to, for one type on one stream.
 *
 * docs/xds-protocol.md § Subscriptions: a SotW request replaces the whole set; for
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
 * object, one Set, instead of one each (docs/xds-protocol.md § Cost).
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

/** The encoded resource_names of a request whose names built the subscription, once per (shared) subscription. */
const rawNamesOf = new WeakMap<SotwSubscription, Uint8Array>();

/**
 * Remembers the encoded names of a request, if its names are those that built
 * the subscription: a later request with the same bytes is the same list.
 */
export function rememberRawNames(subscription: SotwSubscription, resourceNames: readonly string[], raw: Uint8Array): void {
  if (rawNamesOf.has(subscription) || !sameList(requestNamesOf.get(subscription), resourceNames)) return;
  rawNamesOf.set(subscription, new Uint8Array(raw));
}

/**
 * The names of a request whose encoded names are byte for byte those
 * remembered for the subscription: then `applySotwRequest(subscription, names)`
 * is the subscription itself. Undefined otherwise.
 */
export function repeatedNames(subscription: SotwSubscription, raw: Uint8Array): readonly string[] | undefined {
  const known = rawNamesOf.get(subscription);
  if (!known || known.length !== raw.length) return undefined;
  if (!Buffer.from(known.buffer, known.byteOffset, known.length).equals(raw)) return undefined;
  return requestNamesOf.get(subscription);
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
