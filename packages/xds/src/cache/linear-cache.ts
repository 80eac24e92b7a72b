import { isMessage, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { contentHash } from "../resource/content-hash.ts";
import { encodeResource, type EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType } from "../resource/resource-types.ts";
import { typeUrlOf } from "../resource/type-urls.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { ChangeListener, ConfigWatcher, TypeChange } from "./config-watcher.ts";
import { ListenerSet } from "./listener-set.ts";

/** Options of {@link createLinearCache}. */
export interface LinearCacheOptions {
  /** The one resource type this cache holds (typically endpoints). */
  readonly typeUrl: string;
  /** Initial resources. */
  readonly resources?: ReadonlyArray<Message | EncodedResource>;
  /** How many streams are notified before yielding to the event loop. */
  readonly notifyBatchSize?: number;
}

/**
 * One resource type shared by every node, with per-resource versions
 * (go-control-plane's LinearCache): the usual home of endpoints, which change
 * often and one at a time. Any cache key sees the same resources.
 */
export interface LinearCache extends ConfigWatcher {
  /** The one type URL the cache serves. */
  readonly typeUrl: string;
  /** Upserts and removes in one change; resolves once every watching stream was notified. */
  updateResources(change: { upsert?: ReadonlyArray<Message | EncodedResource>; remove?: readonly string[] }): Promise<void>;
  /** Replaces every resource. */
  setResources(resources: ReadonlyArray<Message | EncodedResource>): Promise<void>;
  /** Removes one resource; streams subscribed to it are told (Delta `removed_resources`, SotW a response without it). */
  deleteResource(name: string): Promise<void>;
  /** The resources now, by name. */
  resources(): ReadonlyMap<string, EncodedResource>;
  /** Content hash over every (name, version): the system version of the type. */
  readonly version: string;
}

/** Every key is served the same resources, so all listeners share one slot. */
const allKeys = "";

/** A cache of one resource type whose resources change often and one at a time (go-control-plane's `cache.NewLinearCache`); each change reaches only the streams that subscribe to a changed name. @throws XdsError `invalid_argument` for a type URL the library does not serve. */
export function createLinearCache(options: LinearCacheOptions): LinearCache {
  const { typeUrl } = options;
  const type = resourceType(typeUrl);
  if (!type) throw new XdsError(XdsErrorCode.InvalidArgument, `a linear cache needs a known xDS type URL, not ${JSON.stringify(typeUrl)}`);
  const listeners = new ListenerSet<ChangeListener, [ReadonlySet<string>, ReadonlyMap<string, TypeChange>]>(
    options.notifyBatchSize === undefined ? {} : { batchSize: options.notifyBatchSize },
  );
  const changed: ReadonlySet<string> = new Set([typeUrl]);

  const encode = (input: Message | EncodedResource): EncodedResource => {
    let r: EncodedResource;
    if (isMessage(input)) {
      if (typeUrlOf(input.$typeName) !== typeUrl) {
        throw new XdsError(XdsErrorCode.InvalidResource, `a ${input.$typeName} does not belong in a linear cache of ${typeUrl}`);
      }
      r = encodeResource(type.schema as DescMessage, input as never);
    } else {
      r = input;
    }
    if (r.typeUrl !== typeUrl) throw new XdsError(XdsErrorCode.InvalidResource, `resource '${r.name}' is a ${r.typeUrl}, not a ${typeUrl}`);
    return r;
  };

  // Immutable, replaced on every change: streams and encoders key their shared
  // bodies by this object, so it must never be mutated in place.
  let current: TypeResources = freeze(new Map());

  function freeze(items: Map<string, EncodedResource>): TypeResources {
    const parts = [...items.values()].map((r) => `${r.name}\u0001${r.version}`).sort();
    return { version: contentHash(typeUrl, ...parts), items };
  }

  async function commit(next: Map<string, EncodedResource>): Promise<void> {
    const diff = diffItems(current.items, next);
    if (diff.changed.size === 0 && diff.removed.size === 0) return; // only a real change notifies
    current = freeze(next);
    // Which names changed, computed once for every watching stream.
    await listeners.notify(allKeys, changed, new Map([[typeUrl, diff]]));
  }

  function setAll(resources: ReadonlyArray<Message | EncodedResource>): Map<string, EncodedResource> {
    const next = new Map<string, EncodedResource>();
    const duplicates: string[] = [];
    for (const input of resources) {
      const r = encode(input);
      if (next.has(r.name)) duplicates.push(r.name);
      next.set(r.name, r);
    }
    if (duplicates.length > 0) {
      throw new XdsError(XdsErrorCode.DuplicateResource, `duplicate resource names: ${duplicates.join(", ")}`, { details: duplicates });
    }
    return next;
  }

  if (options.resources) current = freeze(setAll(options.resources));

  return {
    typeUrl,
    keyOf: (node: Node) => node.id,
    get(_key, t) {
      // Other types are not ours: undefined lets a request for them wait, and
      // tells a mux cache this sub-cache has nothing to say about them.
      return t === typeUrl ? current : undefined;
    },
    watch: (_key, listener) => listeners.add(allKeys, listener),
    async updateResources(change) {
      // Encode and validate everything before changing anything.
      const upserts = (change.upsert ?? []).map(encode);
      const next = new Map(current.items);
      for (const name of change.remove ?? []) next.delete(name);
      for (const r of upserts) next.set(r.name, r);
      await commit(next);
    },
    async setResources(resources) {
      await commit(setAll(resources));
    },
    async deleteResource(name) {
      if (!current.items.has(name)) return;
      const next = new Map(current.items);
      next.delete(name);
      await commit(next);
    },
    resources: () => current.items,
    get version() {
      return current.version;
    },
  };
}

/** Names added or with a new version in `next`, and names gone from it. */
export function diffItems(
  previous: ReadonlyMap<string, { readonly version: string }>,
  next: ReadonlyMap<string, { readonly version: string }>,
): { changed: Set<string>; removed: Set<string> } {
  const changed = new Set<string>();
  const removed = new Set<string>();
  if (previous === next) return { changed, removed };
  let added = 0;
  for (const [name, r] of next) {
    const before = previous.get(name);
    if (before === undefined) added++;
    if (before?.version !== r.version) changed.add(name);
  }
  // Every name of `previous` still in `next` was met above: scan only when some are gone.
  if (previous.size > next.size - added) for (const name of previous.keys()) if (!next.has(name)) removed.add(name);
  return { changed, removed };
}
