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

export function applySotwRequest(
  previous: SotwSubscription | undefined,
  resourceNames: readonly string[],
  options: { fullState: boolean },
): SotwSubscription {
  const names = new Set(resourceNames.filter((n) => n !== wildcardName));
  const explicitWildcard = resourceNames.includes(wildcardName);
  const everNamed = (previous?.everNamed ?? false) || resourceNames.length > 0;
  // Legacy wildcard: an empty list on a full-state type, as long as the client
  // never named resources on this stream. After it has, an empty list means
  // "unsubscribe from everything" (xDS protocol, "How the client specifies what
  // resources to return").
  const legacyWildcard = options.fullState && resourceNames.length === 0 && !everNamed;
  const wildcard = explicitWildcard || legacyWildcard;
  return { wildcard, names, everNamed, key: wildcard ? wildcardName : [...names].sort().join("\n") };
}
