import { DeltaDiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { TypeChange } from "../cache/config-watcher.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType, type ResourceType } from "../resource/resource-types.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { classifyDeltaRequest } from "../protocol/delta-request-kind.ts";
import { splitBySize } from "../protocol/delta-split.ts";
import { HeldVersions } from "../protocol/held-versions.ts";
import { endpointsToAwait } from "../protocol/ads-schedule.ts";
import {
  applyDeltaRequest,
  isSubscribed,
  createDeltaSubscription,
  deltaSubscribedNames,
  recordDeltaSent,
  selectDelta,
  selectDeltaNames,
  type DeltaSubscription,
} from "../protocol/delta-subscription.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { DeltaResponseEncoder } from "./delta-response-encoder.ts";
import type { SharedDeltaResponse } from "./delta-shared-responses.ts";
import { deltaSubscribeNames } from "./delta-subscribe-names.ts";
import type { StreamSession } from "./stream-session.ts";
import type { RequestEvent, ResponseEvent } from "./xds-hooks.ts";
import { XdsStream, type XdsStreamOptions } from "./xds-stream.ts";

/**
 * What `onRequest` receives for a Delta request (variant "delta"): the common
 * fields, with `resourceNames` = the names subscribed by this request, plus the
 * Delta increments. Narrow with `event.variant === "delta"`.
 */
export interface DeltaRequestEvent extends RequestEvent {
  /** resource_names_subscribe: names this request adds to the subscription ("*" for wildcard). */
  readonly subscribe: readonly string[];
  /** resource_names_unsubscribe: names this request removes from the subscription. */
  readonly unsubscribe: readonly string[];
  /** What the client says it already holds (first request of a type on a (re)connected stream). */
  readonly initialResourceVersions: Readonly<Record<string, string>>;
}

/** What `onResponse` receives for a Delta response: `resourceNames` are the resources sent, plus the removed names. */
export interface DeltaResponseEvent extends ResponseEvent {
  /** removed_resources: names the client held (or subscribed to) that no longer exist for it (#565). */
  readonly removedResources: readonly string[];
  /** Names whose TTL this response refreshed (heartbeats carry no resource body). */
  readonly heartbeats: readonly string[];
  /** Which part of a logical response this is, when one was split by maxResponseBytes (1 of 1 otherwise). */
  readonly part: number;
  /** How many parts the logical response was split into (1 when it fit in one message). */
  readonly parts: number;
}

export interface DeltaStreamOptions extends XdsStreamOptions {
  readonly encoder: DeltaResponseEncoder;
  /**
   * Every so often, resources with a TTL that the client holds are re-announced
   * without their body, so Envoy keeps them; when heartbeats stop (the control
   * plane is gone), Envoy drops them at TTL expiry. Off when undefined or 0.
   */
  readonly heartbeatIntervalMs?: number;
  /** Largest response message; bigger logical responses go out in parts. Default 4 MiB. */
  readonly maxResponseBytes?: number;
}

/** gRPC's default message limit, which many xDS clients keep (kuma#16355). */
export const defaultMaxResponseBytes = 4 * 1024 * 1024;

interface TypeState {
  readonly subscription: DeltaSubscription;
  /** Nonces of the latest logical response (several when it was sent in parts). */
  latestNonces: Set<string>;
  /** system_version_info of the latest response (what status reports as sent/ACKed). */
  lastSentVersion: string;
  /** No response was sent for the type on this stream yet. */
  first: boolean;
  /**
   * What the next response must look at: "all" (walk every subscribed name),
   * or only the names the cache said changed since the last selection. Any
   * work a hint does not describe (a new or changed subscription, a rekey, a
   * cache without hints, removals held back) makes it "all".
   */
  pending: Set<string> | "all";
  /**
   * What the client held before the latest logical response. The names that response carried
   * are where it differs from what the client holds now, worked out only on a NACK: a copy of
   * them per stream cost 150 KiB of heap per stream at 10,000 resources (bench/delta-fanout.ts),
   * while this value is shared by the streams of a fan-out (held-versions.ts).
   */
  heldBeforeLastSent: HeldVersions;
  /**
   * Those names, when the client NACKed that response, until the next one.
   * Once none of them is subscribed or still exists, an empty response goes
   * out so the client ACKs and status leaves NACKED (issue 8: a NACK stayed
   * after the client stopped asking for what it rejected).
   */
  rejected?: readonly string[];
  /** The largest shared response id this stream sent under its shared nonces: only larger ones may be (delta-shared-responses.ts). */
  sharedFloor: number;
}

/** Past this many changed names, walking them costs about as much as the full walk. */
const maxPendingNames = 1024;

/**
 * One Delta (incremental) xDS stream, ADS or per type: decodes requests,
 * selects, encodes and writes responses. Same shape as SotwStream: what goes
 * next and what waits is the scheduling policy's (protocol/ads-schedule.ts,
 * through XdsStream). Versions are per resource (the content hash of its
 * bytes); `system_version_info` is informational only.
 */
export class DeltaStream extends XdsStream {
  readonly #o: DeltaStreamOptions;
  readonly #s: StreamSession;
  readonly #types = new Map<string, TypeState>();
  #nonce = 0;

  constructor(options: DeltaStreamOptions) {
    super(options, "delta");
    this.#o = options;
    this.#s = this.session;
  }

  /** Delta responses carry `Resource` wrappers: prepared with the resources' bytes. */
  protected override get warmResource(): (r: EncodedResource) => void {
    return this.#o.encoder.warm;
  }

  /** Every type takes part in heartbeats: those without TTL'd resources the client holds send nothing. */
  protected heartbeatTypes(): Iterable<string> {
    return this.#types.keys();
  }

  protected released(): void {
    this.#types.clear();
  }

  onRequest(bytes: Uint8Array): void {
    // A long list of names is decoded once per distinct list, not per stream (delta-subscribe-names.ts).
    const split = deltaSubscribeNames.split(bytes);
    const decoded = this.#s.decode(split?.rest ?? bytes, DeltaDiscoveryRequestSchema);
    if (decoded === undefined) return;
    const { request, typeUrl } = decoded;
    const splitNames = split && deltaSubscribeNames.names(split, this.#o.watcher.get(this.#s.key, typeUrl)?.items);
    const requested = splitNames ?? request.resourceNamesSubscribe;
    const type = resourceType(typeUrl) as ResourceType; // admit() checked it is known
    const nodeId = this.nodeId;
    let state = this.#types.get(typeUrl);
    const kind = classifyDeltaRequest({ responseNonce: request.responseNonce, hasErrorDetail: request.errorDetail !== undefined }, state?.latestNonces);
    const base = { streamId: this.#o.id, variant: "delta" as const, ads: this.#s.ads, nodeId, typeUrl };
    const requestEvent: DeltaRequestEvent = {
      ...base,
      versionInfo: "",
      responseNonce: request.responseNonce,
      resourceNames: requested,
      stale: kind === "stale",
      subscribe: requested,
      unsubscribe: request.resourceNamesUnsubscribe,
      initialResourceVersions: request.initialResourceVersions,
    };
    this.#s.report.request(requestEvent);
    if (kind === "nack") {
      // What was sent stays "held" in the subscription, so only a new version goes out (#962, #582).
      this.nacked(base, state?.lastSentVersion ?? "", request);
      if (state) state.rejected = namesSentSince(state.heldBeforeLastSent, state.subscription.clientVersions);
    } else if (kind === "ack" && state) {
      // A Delta ACK carries no version: it accepts the response its nonce names.
      this.#s.report.acked({ ...base, version: state.lastSentVersion, nonce: request.responseNonce });
    }
    // Subscription changes apply whatever the nonce, stale included: Envoy
    // relies on it (docs/xds-protocol.md § nonces). initial_resource_versions only
    // counts on the first request of the type on this stream.
    // Names are kept as the cache's own strings (the resource's name) rather
    // than the ones just decoded: 1,000 streams subscribed to the same 10,000
    // names then hold references to one set of strings, not 1,000 copies.
    const known = splitNames === undefined && requested.length > 0 ? this.#o.watcher.get(this.#s.key, typeUrl)?.items : undefined;
    const subscribe = known ? requested.map((name) => known.get(name)?.name ?? name) : requested;
    const change = { subscribe, unsubscribe: request.resourceNamesUnsubscribe };
    if (!state) {
      state = {
        subscription: createDeltaSubscription({ ...change, initialResourceVersions: request.initialResourceVersions }, { fullState: type.fullState }),
        latestNonces: new Set(),
        lastSentVersion: "",
        first: true,
        pending: "all",
        heldBeforeLastSent: HeldVersions.empty,
        sharedFloor: 0,
      };
      this.#types.set(typeUrl, state);
      this.#s.report.subscribed(nodeId, typeUrl, deltaSubscribedNames(state.subscription));
    } else if (change.subscribe.length > 0 || change.unsubscribe.length > 0) {
      applyDeltaRequest(state.subscription, change);
      state.pending = "all";
      this.#s.report.subscribed(nodeId, typeUrl, deltaSubscribedNames(state.subscription));
    }
    // Answering is decided on content (what the client holds versus what
    // exists), so making the type due never resends anything unchanged. A
    // full walk is coming: its resources are prepared first (an ACK walks nothing).
    this.requested(typeUrl, { prepare: state.pending === "all" });
  }

  /** Hints (the changed names) accumulate per type until it is next selected; a rekey (no hints) means the full walk. */
  protected override changed(typeUrls: ReadonlySet<string>, changes: ReadonlyMap<string, TypeChange> | undefined): void {
    for (const t of typeUrls) {
      const state = this.#types.get(t);
      if (!state) continue;
      // Hints accumulate until the type is next selected: a stream still busy
      // with an earlier change sees the union of everything since.
      const change = changes?.get(t);
      if (state.pending === "all") continue;
      if (change === undefined || change === "all" || state.pending.size + change.changed.size + change.removed.size > maxPendingNames) {
        state.pending = "all";
        continue;
      }
      for (const name of change.changed) state.pending.add(name);
      for (const name of change.removed) state.pending.add(name);
    }
  }

  protected respond(typeUrl: string, _type: ResourceType, available: TypeResources): boolean {
    const state = this.#types.get(typeUrl);
    if (!state) return true;
    // A full walk in a state other streams share (an initial sync) takes the shared selection and response (issue 15 item 1).
    const shared = state.pending === "all" ? this.#o.encoder.sharedResponses.lookup(available, state.subscription, { first: state.first }) : undefined;
    const selection = shared ? shared.selection : state.pending === "all" ? selectDelta(available.items, state.subscription) : selectDeltaNames(available.items, state.subscription, state.pending);
    const pendingAfter = new Set<string>();
    state.pending = pendingAfter;
    let removed = selection.removed;
    const policy = this.policy;
    if (removed.length > 0 && policy.holdRemovals(typeUrl)) {
      // Make before break: a resource the client holds (a cluster, its
      // endpoints, a listener) is removed only after the types after it
      // (listeners, routes, including those the warming gate holds) were sent,
      // in a later response (docs/xds-protocol.md § Ordering; go-control-plane #526,
      // #705, #800). Envoy ignores EDS removals, but other clients (gRPC) act on them.
      const held = removed.filter((name) => state.subscription.clientVersions.has(name));
      if (held.length > 0) {
        removed = removed.filter((name) => !state.subscription.clientVersions.has(name));
        policy.heldRemovals(typeUrl);
        // Not sent now: they are what the released pass must find.
        for (const name of held) pendingAfter.add(name);
      }
    }
    // Heartbeats: TTL resources the client holds at their current version and
    // that this response does not carry anyway.
    const heartbeats: EncodedResource[] = [];
    if (policy.takeHeartbeat(typeUrl)) {
      const sending = new Set(selection.resources.map((r) => r.name));
      for (const [name, version] of state.subscription.clientVersions) {
        const r = available.items.get(name);
        if (r?.ttlMs !== undefined && r.version === version && !sending.has(name)) heartbeats.push(r);
      }
      heartbeats.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    // The first response of a wildcard subscription goes out even when empty:
    // Envoy waits for it to finish initialising CDS/LDS (as SotW full-state types do).
    const firstWildcard = state.first && state.subscription.wildcard;
    const rejected = state.rejected;
    const rejectionGone = rejected !== undefined && rejected.length > 0 && rejected.every((name) => !isSubscribed(state.subscription, name) || !available.items.has(name));
    if (selection.resources.length === 0 && removed.length === 0 && heartbeats.length === 0 && !firstWildcard && !rejectionGone) {
      // Nothing to say: the client holds what we would send (Delta removes what is gone), so
      // status can tell it is current at this version (TypeStatus.settledVersion, issue 8).
      // The first request counts too: a client reconnecting with initial_resource_versions
      // equal to ours (failover to a replica with the same content, issue 10) is sent
      // nothing and is current. A name it asks for that does not exist is never "nothing
      // to say" there: selectDelta reports it removed once.
      if (pendingAfter.size === 0 && rejected === undefined) this.#s.report.settled(this.nodeId, typeUrl, available.version);
      return true;
    }
    // One logical response, sent in parts when it would exceed maxResponseBytes.
    const systemVersion = available.version;
    const maxResponseBytes = this.#o.maxResponseBytes ?? defaultMaxResponseBytes;
    // The shared messages as built, when nothing of this stream's own is added (heartbeats, removals held back).
    const asShared = shared !== undefined && heartbeats.length === 0 && removed === selection.removed;
    const outgoing = asShared ? this.#sharedParts(shared, state, { typeUrl, systemVersion, maxResponseBytes }) : this.#ownParts({ typeUrl, systemVersion, maxResponseBytes, resources: selection.resources, heartbeats, removed });
    state.heldBeforeLastSent = state.subscription.clientVersions;
    if (asShared) this.#o.encoder.sharedResponses.record(shared, state.subscription);
    else recordDeltaSent(state.subscription, { resources: selection.resources, removed });
    state.latestNonces = new Set();
    state.lastSentVersion = systemVersion;
    state.first = false;
    delete state.rejected;
    let writable = true;
    outgoing.forEach((part, index) => {
      const { nonce, message } = part;
      state.latestNonces.add(nonce);
      const responseEvent: DeltaResponseEvent = {
        streamId: this.#o.id,
        variant: "delta",
        ads: this.#s.ads,
        nodeId: this.nodeId,
        typeUrl,
        version: systemVersion,
        nonce,
        resourceNames: part.names,
        removedResources: part.removed,
        heartbeats: part.heartbeats,
        bytes: message.length,
        part: index + 1,
        parts: outgoing.length,
      };
      // A part over the limit is one resource that cannot be split: the reporter puts it in status.
      this.#s.report.sentDelta(responseEvent, { maxResponseBytes, held: state.subscription.clientVersions });
      this.#o.encoder.counted(message, { resources: part.resources, removed: part.removed, heartbeats: part.heartbeatResources });
      writable = this.#o.transport.write(message) && writable;
    });
    if (this.#s.ads && typeUrl === TypeUrl.Cluster) {
      // What the client holds of EDS: the versions it was sent or announced (a
      // client without EDS on the stream awaits nothing).
      const held = this.#types.get(TypeUrl.Endpoint)?.subscription.clientVersions;
      policy.clustersSent(held ? endpointsToAwait(selection.resources, this.#o.watcher.get(this.#s.key, TypeUrl.Endpoint)?.items, held) : [], Date.now());
    }
    if (typeUrl === TypeUrl.Endpoint && policy.gateClosed) policy.endpointsSent(sentNames(selection.resources, removed));
    return writable;
  }

  /**
   * A shared response's messages: as built, with their shared nonces, when
   * the response is newer than any this stream sent so (every nonce on the
   * stream stays unique, as SotW's shared bodies, response-encoder.ts bodyId);
   * otherwise under nonces of the stream's own, one copy each.
   */
  #sharedParts(shared: SharedDeltaResponse, state: TypeState, options: { typeUrl: string; systemVersion: string; maxResponseBytes: number }): OutgoingPart[] {
    const parts = this.#o.encoder.sharedResponses.parts(shared, options);
    const useShared = shared.id > state.sharedFloor;
    if (useShared) state.sharedFloor = shared.id;
    return parts.map((p) => {
      const nonce = useShared ? p.nonce : String(++this.#nonce);
      const message = useShared ? p.message : this.#o.encoder.withNonce(p, nonce);
      return { nonce, message, resources: p.resources, names: p.names, removed: p.removed, heartbeats: [], heartbeatResources: [] };
    });
  }

  /** A response of this stream's own, encoded and split here. */
  #ownParts(options: { typeUrl: string; systemVersion: string; maxResponseBytes: number; resources: readonly EncodedResource[]; heartbeats: readonly EncodedResource[]; removed: readonly string[] }): OutgoingPart[] {
    const { typeUrl, systemVersion, removed } = options;
    const encoder = this.#o.encoder;
    const budget = options.maxResponseBytes - encoder.fixedBytes({ typeUrl, systemVersion, removed });
    const items = [...options.resources.map((r) => ({ r, beat: false })), ...options.heartbeats.map((r) => ({ r, beat: true }))];
    const parts = splitBySize(items, (i) => (i.beat ? encoder.heartbeat(i.r) : encoder.wrapper(i.r)).length, budget);
    return parts.map((part, index) => {
      const nonce = String(++this.#nonce);
      const resources = part.filter((i) => !i.beat).map((i) => i.r);
      const heartbeatResources = part.filter((i) => i.beat).map((i) => i.r);
      const partRemoved = index === 0 ? removed : [];
      const message = encoder.assemble({ typeUrl, systemVersion, resources, removed: partRemoved, nonce, heartbeats: heartbeatResources });
      return { nonce, message, resources, names: resources.map((r) => r.name), removed: partRemoved, heartbeats: heartbeatResources.map((r) => r.name), heartbeatResources };
    });
  }
}

/** Names a response carried or removed, once per (shared) selection: the warming gate then shares its work too (ads-schedule.ts). */
const sentNamesMemo = new WeakMap<readonly EncodedResource[], { readonly removed: readonly string[]; readonly names: readonly string[] }>();
function sentNames(resources: readonly EncodedResource[], removed: readonly string[]): readonly string[] {
  const known = sentNamesMemo.get(resources);
  if (known?.removed === removed) return known.names;
  const names = [...resources.map((r) => r.name), ...removed];
  sentNamesMemo.set(resources, { removed, names });
  return names;
}

/** One message of a logical response, as a stream writes it. */
interface OutgoingPart {
  readonly nonce: string;
  readonly message: Buffer;
  readonly resources: readonly EncodedResource[];
  readonly names: readonly string[];
  readonly removed: readonly string[];
  readonly heartbeats: readonly string[];
  readonly heartbeatResources: readonly EncodedResource[];
}

/** The names whose version moved from `before` to `after`: what the responses in between carried (Delta sends only what differs). */
function namesSentSince(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const names: string[] = [];
  for (const [name, version] of after) if (before.get(name) !== version) names.push(name);
  return names;
}
