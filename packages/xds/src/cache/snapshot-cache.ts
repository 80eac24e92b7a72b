import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { ChangeListener, ConfigWatcher, TypeChange } from "./config-watcher.ts";
import { diffItems } from "./linear-cache.ts";
import { ListenerSet } from "./listener-set.ts";
import type { Snapshot } from "./snapshot.ts";

/** Options of {@link createSnapshotCache}. */
export interface SnapshotCacheOptions {
  /**
   * Accepted for go-control-plane familiarity (NewSnapshotCache(ads, ...)); it
   * changes nothing here: the server applies ADS ordering on every ADS stream
   * and per-type streams are never held back.
   */
  readonly ads?: boolean;
  /** Maps a node to its cache key; by default the node id (go-control-plane's IDHash). */
  readonly nodeKey?: (node: Node) => string;
  /** How many streams are notified before yielding to the event loop. */
  readonly notifyBatchSize?: number;
}

/** Snapshots per node key, the go-control-plane way. */
export interface SnapshotCache extends ConfigWatcher {
  /** Replaces the snapshot of a key; resolves once every stream watching the key was notified. */
  setSnapshot(key: string, snapshot: Snapshot): Promise<void>;
  /** The snapshot of a key, if one was set. */
  getSnapshot(key: string): Snapshot | undefined;
  /** Forgets a key's snapshot; connected streams keep what they have. */
  clearSnapshot(key: string): void;
  /** Keys that have a snapshot. */
  keys(): string[];
}

const emptyResources: TypeResources = { version: "", items: new Map() };
const noNames: TypeChange = { changed: new Set(), removed: new Set() };

/** A cache holding one {@link Snapshot} per node key (go-control-plane's `cache.NewSnapshotCache`): every stream of a key is served that snapshot, and setting a new one notifies them. */
export function createSnapshotCache(options: SnapshotCacheOptions = {}): SnapshotCache {
  const snapshots = new Map<string, Snapshot>();
  const listeners = new ListenerSet<ChangeListener, [ReadonlySet<string>, ReadonlyMap<string, TypeChange>]>(
    options.notifyBatchSize === undefined ? {} : { batchSize: options.notifyBatchSize },
  );
  const nodeKey = options.nodeKey ?? ((node: Node) => node.id);

  return {
    keyOf: nodeKey,
    get(key, typeUrl) {
      const s = snapshots.get(key);
      // A snapshot without the type still answers (with nothing), so that a
      // wildcard LDS/CDS request gets its empty set instead of waiting forever.
      return s ? (s.typeUrls.includes(typeUrl) ? s.typeResources(typeUrl) : { ...emptyResources, version: s.typeVersion(typeUrl) }) : undefined;
    },
    watch: (key, listener) => listeners.add(key, listener),
    async setSnapshot(key, snapshot) {
      const previous = snapshots.get(key);
      snapshots.set(key, snapshot);
      // Nobody to tell: what changed is only ever computed for listeners, and
      // computing it would encode every resource of both snapshots (issue 15:
      // a set with nobody connected costs no encoding; a stream that comes
      // later reads the snapshot as it is, through get()).
      if (listeners.count(key) === 0) return;
      const changed = new Set<string>();
      const changes = new Map<string, TypeChange>();
      const types = new Set([...snapshot.typeUrls, ...(previous?.typeUrls ?? [])]);
      for (const t of types) {
        // Content, not maps or caller versions, says what changed: a type whose
        // resources are byte-identical is not recomputed on every stream.
        const sameContent = previous !== undefined && previous.typeContentHash(t) === snapshot.typeContentHash(t);
        if (sameContent && previous.typeVersion(t) === snapshot.typeVersion(t)) continue;
        changed.add(t);
        // Which names changed, once here rather than on every stream
        // (docs/xds-protocol.md § Cost): a Delta stream then checks only those.
        changes.set(t, !previous ? "all" : sameContent ? noNames : diffItems(previous.resources(t), snapshot.resources(t)));
      }
      if (changed.size > 0) await listeners.notify(key, changed, changes);
    },
    getSnapshot: (key) => snapshots.get(key),
    clearSnapshot(key) {
      snapshots.delete(key);
    },
    keys: () => [...snapshots.keys()],
  };
}
