import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { TypeResources } from "../protocol/sotw-selection.ts";

export type { TypeResources };

/**
 * Which names of one type changed since the cache's previous notification for
 * the key: `changed` were added or got a new version, `removed` are gone.
 * "all" when the cache cannot say (a first snapshot, a replaced view).
 */
export type TypeChange =
  | {
      /** Names added, or with a new version. */
      readonly changed: ReadonlySet<string>;
      /** Names no longer there. */
      readonly removed: ReadonlySet<string>;
    }
  | "all";

/**
 * Called when resources of some types changed for a cache key. `changes`, when
 * given, names per type what changed, computed once per change by the cache
 * (not per stream), so a Delta stream checks only those names against what
 * its client holds. A type in `typeUrls` but not in `changes` (or no `changes`
 * at all, as from a ConfigWatcher that predates hints) means "anything may
 * have changed".
 */
export type ChangeListener = (typeUrls: ReadonlySet<string>, changes?: ReadonlyMap<string, TypeChange>) => void;

/**
 * What the xDS server needs from a cache. The server owns the protocol (what to
 * send, when, in which order); a cache only holds resources and says when they
 * change. This keeps every protocol rule in one place for all cache kinds
 * (snapshot, linear, mux), where go-control-plane repeats the respond logic in
 * each cache. The cache never imports the server (docs/architecture.md).
 */
export interface ConfigWatcher {
  /** The cache key for a node (snapshot caches key by node id by default). */
  keyOf(node: Node): string;
  /** The resources of a type for a key; undefined while the cache has nothing for the key yet. */
  get(key: string, typeUrl: string): TypeResources | undefined;
  /** Listens for changes under a key; returns the function that stops listening. */
  watch(key: string, listener: ChangeListener): () => void;
}
