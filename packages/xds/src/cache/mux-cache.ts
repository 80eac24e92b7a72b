import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import type { ChangeListener, ConfigWatcher } from "./config-watcher.ts";

/** Options of {@link createMuxCache}: a sub-cache per type, and one for the rest. */
export interface MuxCacheOptions {
  /** Sub-cache per type URL, e.g. `{ [TypeUrl.Endpoint]: linearCache }`. */
  readonly byType?: Readonly<Record<string, ConfigWatcher>>;
  /** Serves every type not in `byType` (typically the snapshot cache for listeners, routes, clusters). */
  readonly fallback?: ConfigWatcher;
  /**
   * Maps a node to its cache key. By default the fallback's (the snapshot
   * side's), else the first sub-cache's: every sub-cache is asked with that key.
   */
  readonly keyOf?: (node: Node) => string;
}

/** Routes each type URL to a sub-cache (go-control-plane's MuxCache). */
export interface MuxCache extends ConfigWatcher {
  /** The sub-cache serving a type, if any. */
  route(typeUrl: string): ConfigWatcher | undefined;
}

/**
 * A ConfigWatcher made of others: `get` routes by type, `watch` registers in
 * every distinct sub-cache and passes on only the types that sub-cache serves
 * (a snapshot whose endpoints live elsewhere must not wake EDS). A snapshot
 * served next to a linear endpoints cache is built with
 * `createSnapshot({ skipConsistencyCheck: true, ... })`: its EDS references
 * point into the other cache.
 */
export function createMuxCache(options: MuxCacheOptions): MuxCache {
  const byType = new Map(Object.entries(options.byType ?? {}));
  const fallback = options.fallback;
  const keyOf = options.keyOf ?? fallback?.keyOf ?? byType.values().next().value?.keyOf;
  if (!keyOf) throw new XdsError(XdsErrorCode.InvalidArgument, "a mux cache needs at least one sub-cache (byType or fallback)");
  const route = (typeUrl: string): ConfigWatcher | undefined => byType.get(typeUrl) ?? fallback;
  const subCaches = new Set<ConfigWatcher>([...byType.values(), ...(fallback ? [fallback] : [])]);

  return {
    keyOf: (node) => keyOf(node),
    get: (key, typeUrl) => route(typeUrl)?.get(key, typeUrl),
    route,
    watch(key, listener: ChangeListener) {
      const cancels = [...subCaches].map((sub) =>
        sub.watch(key, (typeUrls, changes) => {
          const mine = new Set([...typeUrls].filter((t) => route(t) === sub));
          if (mine.size === 0) return;
          // Hints pass through for the types this sub-cache serves.
          if (changes === undefined) listener(mine);
          else listener(mine, new Map([...changes].filter(([t]) => mine.has(t))));
        }),
      );
      return () => {
        for (const cancel of cancels) cancel();
      };
    },
  };
}
