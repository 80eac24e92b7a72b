import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { TypeResources } from "../protocol/sotw-selection.ts";

export type { TypeResources };

/** Called when resources of some types changed for a cache key. */
export type ChangeListener = (typeUrls: ReadonlySet<string>) => void;

/**
 * What the xDS server needs from a cache. The server owns the protocol (what to
 * send, when, in which order); a cache only holds resources and says when they
 * change. This keeps every protocol rule in one place for all cache kinds
 * (snapshot, linear, mux), where go-control-plane repeats the respond logic in
 * each cache. The cache never imports the server (architecture.md).
 */
export interface ConfigWatcher {
  /** The cache key for a node (snapshot caches key by node id by default). */
  keyOf(node: Node): string;
  /** The resources of a type for a key; undefined while the cache has nothing for the key yet. */
  get(key: string, typeUrl: string): TypeResources | undefined;
  /** Listens for changes under a key; returns the function that stops listening. */
  watch(key: string, listener: ChangeListener): () => void;
}
