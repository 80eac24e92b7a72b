import type { HeldVersions } from "../protocol/held-versions.ts";
import { splitBySize } from "../protocol/delta-split.ts";
import { namesFixed, recordDeltaSent, selectDelta, type DeltaSelection, type DeltaSubscription } from "../protocol/delta-subscription.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import type { DeltaResponseEncoder } from "./delta-response-encoder.ts";

/** One message of a shared logical response, built once and written as is by every stream that may use its nonce. */
export interface SharedDeltaPart {
  readonly resources: readonly EncodedResource[];
  /** The names of `resources`, for events and status: one array for every stream. */
  readonly names: readonly string[];
  readonly removed: readonly string[];
  /** The whole message with the shared nonce last; its first `bodyBytes` are everything else. */
  readonly message: Buffer;
  readonly bodyBytes: number;
  readonly nonce: string;
}

/** What every stream in the same state is sent: the selection, then (once asked for) its encoded parts. */
export interface SharedDeltaResponse {
  /** Increasing in creation order: a stream uses the shared nonces only past the largest id it used (see `sharedFloor`). */
  readonly id: number;
  readonly selection: DeltaSelection<EncodedResource>;
  /** Set by the first stream that records it: what every stream holds after it (one value, not one per stream). */
  heldAfter?: HeldVersions;
  parts?: readonly SharedDeltaPart[];
  /** The maxResponseBytes `parts` were split for. */
  partsBudget?: number;
}

type ByHeld = WeakMap<HeldVersions, SharedDeltaResponse>;

/**
 * Delta responses shared by the streams that subscribe alike (issue 15 item 1).
 * 1,000 Envoys connecting to 10,000 endpoints used to select, sort and
 * concatenate 10,000 wrappers each (1.4 MB copied per stream, the event loop
 * blocked 10-12 s); streams in the same state now share one selection, one
 * encoded response per part with a shared nonce, and one held-versions value.
 *
 * The state is: the type's resources (one object per snapshot and type, so a
 * new snapshot finds nothing and the old entries go with the old snapshot:
 * bounded memory), wildcard or not, the subscribed names (one set shared by
 * streams with the same subscription, delta-subscription.ts) and what the
 * client holds (HeldVersions.empty for a new client; `initial_resource_versions`
 * equal to another stream's are made the same value, so a reconnect storm
 * shares too, and each client is still sent only what differs). Only a full
 * walk with nothing told missing qualifies: that is all selectDelta looks at.
 */
export class DeltaSharedResponses {
  readonly #encoder: DeltaResponseEncoder;
  readonly #bySource = new WeakMap<TypeResources, { wildcard: WeakMap<ReadonlySet<string>, ByHeld>; explicit: WeakMap<ReadonlySet<string>, ByHeld> }>();
  /** The latest initial_resource_versions seen per type resources, to make equal ones one value. */
  readonly #initialHeld = new WeakMap<TypeResources, WeakRef<HeldVersions>>();
  #lastId = 0;

  constructor(encoder: DeltaResponseEncoder) {
    this.#encoder = encoder;
  }

  /**
   * The shared response for a stream whose next response is a full walk of
   * `sub` over `available`; undefined when its state is its own (something was
   * told missing). `first`: the subscription's held versions came from the
   * request (initial_resource_versions), and may be swapped for an equal shared value.
   */
  lookup(available: TypeResources, sub: DeltaSubscription, options: { first: boolean }): SharedDeltaResponse | undefined {
    // A set one stream changes in place cannot be a key: what was computed for it would go stale.
    if (sub.toldMissing.size > 0 || !namesFixed(sub.names)) return undefined;
    if (options.first && sub.clientVersions.size > 0) sub.clientVersions = this.#sameInitial(available, sub.clientVersions);
    let bySource = this.#bySource.get(available);
    if (!bySource) this.#bySource.set(available, (bySource = { wildcard: new WeakMap(), explicit: new WeakMap() }));
    const byNames = sub.wildcard ? bySource.wildcard : bySource.explicit;
    let byHeld = byNames.get(sub.names);
    if (!byHeld) byNames.set(sub.names, (byHeld = new WeakMap()));
    let entry = byHeld.get(sub.clientVersions);
    if (!entry) byHeld.set(sub.clientVersions, (entry = { id: ++this.#lastId, selection: selectDelta(available.items, sub) }));
    return entry;
  }

  /** The entry's messages, split within maxResponseBytes as a per-stream response would be (delta-split.ts), built once. */
  parts(entry: SharedDeltaResponse, options: { typeUrl: string; systemVersion: string; maxResponseBytes: number }): readonly SharedDeltaPart[] {
    if (entry.parts && entry.partsBudget === options.maxResponseBytes) return entry.parts;
    const { typeUrl, systemVersion } = options;
    const removed = entry.selection.removed;
    const encoder = this.#encoder;
    const budget = options.maxResponseBytes - encoder.fixedBytes({ typeUrl, systemVersion, removed });
    const chunks = splitBySize(entry.selection.resources, (r) => encoder.wrapper(r).length, budget);
    const parts = chunks.map((resources, index): SharedDeltaPart => {
      // Shared nonces start with a letter: a stream's own are digits only, so the two never meet.
      const nonce = `s${entry.id}.${index + 1}`;
      const partRemoved = index === 0 ? removed : [];
      const { message, bodyBytes } = encoder.shared({ typeUrl, systemVersion, resources, removed: partRemoved }, nonce);
      return { resources, names: resources.map((r) => r.name), removed: partRemoved, message, bodyBytes, nonce };
    });
    entry.parts = parts;
    entry.partsBudget = options.maxResponseBytes;
    return parts;
  }

  /** Records the entry as sent on a stream: its held versions become the shared value after it. */
  record(entry: SharedDeltaResponse, sub: DeltaSubscription): void {
    const sent = { resources: entry.selection.resources, removed: entry.selection.removed };
    if (entry.heldAfter === undefined) {
      recordDeltaSent(sub, sent);
      entry.heldAfter = sub.clientVersions;
      return;
    }
    sub.clientVersions = entry.heldAfter;
    // What recordDeltaSent does besides: toldMissing is empty (lookup's condition) and gains the removed names subscribed.
    for (const name of sent.removed) if (sub.names.has(name)) sub.toldMissing.add(name);
  }

  #sameInitial(available: TypeResources, held: HeldVersions): HeldVersions {
    const known = this.#initialHeld.get(available)?.deref();
    if (known !== undefined && known !== held && sameEntries(known, held)) return known;
    this.#initialHeld.set(available, new WeakRef(held));
    return held;
  }
}

function sameEntries(a: HeldVersions, b: HeldVersions): boolean {
  if (a.size !== b.size) return false;
  for (const [name, version] of b) if (a.get(name) !== version) return false;
  return true;
}
