import { DeltaDiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { ConfigWatcher, TypeChange } from "../cache/config-watcher.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { pushOrder, resourceType, type ResourceType } from "../resource/resource-types.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { classifyDeltaRequest } from "../protocol/delta-request-kind.ts";
import { splitBySize } from "../protocol/delta-split.ts";
import {
  applyDeltaRequest,
  createDeltaSubscription,
  deltaSubscribedNames,
  recordDeltaSent,
  selectDelta,
  selectDeltaNames,
  type DeltaSubscription,
} from "../protocol/delta-subscription.ts";
import type { DeltaResponseEncoder } from "./delta-response-encoder.ts";
import { OrderedPump } from "./ordered-pump.ts";
import type { StreamReporting } from "./stream-reporter.ts";
import { StreamSession } from "./stream-session.ts";
import type { StreamTransport } from "./stream-transport.ts";
import { endpointsToAwait, WarmingGate } from "./delta-warming-gate.ts";
import type { RequestEvent, ResponseEvent } from "./xds-hooks.ts";

/**
 * What `onRequest` receives for a Delta request (variant "delta"): the common
 * fields, with `resourceNames` = the names subscribed by this request, plus the
 * Delta increments. Narrow with `event.variant === "delta"`.
 */
export interface DeltaRequestEvent extends RequestEvent {
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  /** What the client says it already holds (first request of a type on a (re)connected stream). */
  readonly initialResourceVersions: Readonly<Record<string, string>>;
}

/** What `onResponse` receives for a Delta response: `resourceNames` are the resources sent, plus the removed names. */
export interface DeltaResponseEvent extends ResponseEvent {
  readonly removedResources: readonly string[];
  /** Names whose TTL this response refreshed (heartbeats carry no resource body). */
  readonly heartbeats: readonly string[];
  /** Which part of a logical response this is, when one was split by maxResponseBytes (1 of 1 otherwise). */
  readonly part: number;
  readonly parts: number;
}

/** Reports go to the server's reporter (or to a status registry and hooks, for a stream on its own). */
export type DeltaStreamOptions = StreamReporting & {
  readonly id: number;
  readonly transport: StreamTransport;
  readonly watcher: ConfigWatcher;
  readonly encoder: DeltaResponseEncoder;
  /** The type a per-type service serves; undefined for ADS. */
  readonly typeUrl?: string;
  /**
   * Every so often, resources with a TTL that the client holds are re-announced
   * without their body, so Envoy keeps them; when heartbeats stop (the control
   * plane is gone), Envoy drops them at TTL expiry. Off when undefined or 0.
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * ADS only: how long routes and listeners may wait for the endpoints of
   * clusters just sent (delta-warming-gate.ts). Default 2000 ms.
   */
  readonly warmingWaitMs?: number;
  /** Largest response message; bigger logical responses go out in parts. Default 4 MiB. */
  readonly maxResponseBytes?: number;
};

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
}

/** Past this many changed names, walking them costs about as much as the full walk. */
const maxPendingNames = 1024;

/**
 * One Delta (incremental) xDS stream, ADS or per type. Same shape as
 * SotwStream: one ordered pump per stream in CDS, EDS, LDS, RDS order, one
 * response at a time, respecting transport back-pressure (go-control-plane
 * #752, #875). Versions are per resource (the content hash of its bytes);
 * `system_version_info` is informational only.
 */
export class DeltaStream {
  readonly #o: DeltaStreamOptions;
  readonly #s: StreamSession;
  readonly #types = new Map<string, TypeState>();
  readonly #dirty = new Set<string>();
  /** Full-state types whose removals wait until the types after them were sent (make before break). */
  readonly #deferred = new Set<string>();
  /** Deferred types just released: their removals go out without another deferral. */
  readonly #released = new Set<string>();
  /** ADS make before break for new clusters: routes wait for their endpoints (delta-warming-gate.ts). */
  readonly #gate: WarmingGate;
  /** Types due for a TTL heartbeat on their next response. */
  readonly #heartbeatDue = new Set<string>();
  readonly #pumper = new OrderedPump({
    next: () => this.#nextDirty(),
    send: (typeUrl) => this.#respond(typeUrl),
    closed: () => this.#s.closed,
    onceDrained: (callback) => this.#o.transport.onceDrained(callback),
  });
  #nonce = 0;

  constructor(options: DeltaStreamOptions) {
    this.#o = options;
    this.#s = new StreamSession({
      ...options,
      variant: "delta",
      onChange: (typeUrls, changes) => this.#onChange(typeUrls, changes),
      onRekey: () => this.#onChange(new Set(this.#types.keys())),
      onRelease: () => this.#release(),
      onHeartbeat: () => this.#onHeartbeat(),
    });
    this.#gate = new WarmingGate({
      waitMs: options.warmingWaitMs ?? 2000,
      onOpen: (held) => {
        if (this.#s.closed) return;
        for (const t of held) this.#dirty.add(t);
        void this.#pump();
      },
    });
  }

  /** Who the stream serves and how it ends (rekey, fail, close): shared with the other variant. */
  get session(): StreamSession {
    return this.#s;
  }

  get nodeId(): string {
    return this.#s.nodeId;
  }

  onRequest(bytes: Uint8Array): void {
    const decoded = this.#s.decode(bytes, DeltaDiscoveryRequestSchema);
    if (decoded === undefined) return;
    const { request, typeUrl } = decoded;
    const type = resourceType(typeUrl) as ResourceType; // admit() checked it is known
    const nodeId = this.nodeId;
    let state = this.#types.get(typeUrl);
    const kind = classifyDeltaRequest({ responseNonce: request.responseNonce, hasErrorDetail: request.errorDetail !== undefined }, state?.latestNonces);
    const base = { streamId: this.#o.id, variant: "delta" as const, ads: this.#s.ads, nodeId, typeUrl };
    const requestEvent: DeltaRequestEvent = {
      ...base,
      versionInfo: "",
      responseNonce: request.responseNonce,
      resourceNames: request.resourceNamesSubscribe,
      stale: kind === "stale",
      subscribe: request.resourceNamesSubscribe,
      unsubscribe: request.resourceNamesUnsubscribe,
      initialResourceVersions: request.initialResourceVersions,
    };
    this.#s.report.request(requestEvent);
    if (kind === "nack") {
      // Recorded and surfaced, never answered by resending: what was sent stays
      // "held" in the subscription, so only a new version goes out (#962, #582).
      const message = request.errorDetail?.message ?? "";
      const code = request.errorDetail?.code ?? 0;
      const version = state?.lastSentVersion ?? "";
      this.#s.report.nacked({ ...base, version, nonce: request.responseNonce, message, code });
      // Rejected clusters will not ask for endpoints: stop holding routes for them.
      if (typeUrl === TypeUrl.Cluster && this.#gate.closed) this.#gate.open();
    } else if (kind === "ack" && state) {
      // A Delta ACK carries no version: it accepts the response its nonce names.
      this.#s.report.acked({ ...base, version: state.lastSentVersion, nonce: request.responseNonce });
    }
    // Subscription changes apply whatever the nonce, stale included: Envoy
    // relies on it (xds-protocol.md § nonces). initial_resource_versions only
    // counts on the first request of the type on this stream.
    // Names are kept as the cache's own strings (the resource's name) rather
    // than the ones just decoded: 1,000 streams subscribed to the same 10,000
    // names then hold references to one set of strings, not 1,000 copies.
    const known = request.resourceNamesSubscribe.length > 0 ? this.#o.watcher.get(this.#s.key, typeUrl)?.items : undefined;
    const subscribe = known ? request.resourceNamesSubscribe.map((name) => known.get(name)?.name ?? name) : request.resourceNamesSubscribe;
    const change = { subscribe, unsubscribe: request.resourceNamesUnsubscribe };
    if (!state) {
      state = {
        subscription: createDeltaSubscription({ ...change, initialResourceVersions: request.initialResourceVersions }, { fullState: type.fullState }),
        latestNonces: new Set(),
        lastSentVersion: "",
        first: true,
        pending: "all",
      };
      this.#types.set(typeUrl, state);
      this.#s.report.subscribed(nodeId, typeUrl, deltaSubscribedNames(state.subscription));
    } else if (change.subscribe.length > 0 || change.unsubscribe.length > 0) {
      applyDeltaRequest(state.subscription, change);
      state.pending = "all";
      this.#s.report.subscribed(nodeId, typeUrl, deltaSubscribedNames(state.subscription));
    }
    // Answering is decided on content (what the client holds versus what
    // exists), so marking the type dirty never resends anything unchanged.
    this.#dirty.add(typeUrl);
    void this.#pump();
  }

  #onHeartbeat(): void {
    if (this.#s.closed) return;
    // Through the ordered pump like any response, never beside it (#752, #875).
    for (const t of this.#types.keys()) {
      this.#heartbeatDue.add(t);
      this.#dirty.add(t);
    }
    if (this.#dirty.size > 0) void this.#pump();
  }

  #onChange(typeUrls: ReadonlySet<string>, changes?: ReadonlyMap<string, TypeChange>): void {
    if (this.#s.closed) return;
    for (const t of typeUrls) {
      const state = this.#types.get(t);
      if (!state) continue;
      this.#dirty.add(t);
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
    if (this.#dirty.size > 0) void this.#pump();
  }

  #nextDirty(): string | undefined {
    // Deferred removals wait for everything else, held types included.
    if (this.#dirty.size === 0 && !this.#gate.closed && this.#deferred.size > 0) {
      // Released removals go out now, in push order, and are not deferred
      // again because of one another.
      for (const t of this.#deferred) {
        this.#dirty.add(t);
        this.#released.add(t);
      }
      this.#deferred.clear();
    }
    let best: string | undefined;
    for (const t of this.#dirty) if (best === undefined || pushOrder(t) < pushOrder(best)) best = t;
    if (best !== undefined) this.#dirty.delete(best);
    return best;
  }

  #pump(): Promise<void> {
    return this.#pumper.run();
  }

  /** Sends the type's changes if there are any; returns false when the transport is full. */
  #respond(typeUrl: string): boolean {
    const state = this.#types.get(typeUrl);
    const type = resourceType(typeUrl);
    const available = this.#o.watcher.get(this.#s.key, typeUrl);
    // Nothing for this node yet: the subscription waits, remembered. Saying
    // "removed" now would be wrong: the cache simply has not spoken.
    if (!state || !type || !available) return true;
    if (this.#gate.closed && pushOrder(typeUrl) > pushOrder(TypeUrl.Endpoint)) {
      // Routes are not warmed by Envoy: a route to a cluster whose endpoints
      // have not arrived answers 503 (go-control-plane #526, #705, #800).
      this.#gate.hold(typeUrl);
      return true;
    }
    const selection = state.pending === "all" ? selectDelta(available.items, state.subscription) : selectDeltaNames(available.items, state.subscription, state.pending);
    const pendingAfter = new Set<string>();
    state.pending = pendingAfter;
    let removed = selection.removed;
    const released = this.#released.delete(typeUrl);
    if (this.#s.ads && !released && (this.#gate.closed || this.#hasLaterDirtyTypes(typeUrl))) {
      // Make before break: a resource the client holds (a cluster, its
      // endpoints, a listener) is removed only after the types after it
      // (listeners, routes, including those the warming gate holds) were sent,
      // in a later response (xds-protocol.md § Ordering; go-control-plane #526,
      // #705, #800). Envoy ignores EDS removals, but other clients (gRPC) act on them.
      const held = removed.filter((name) => state.subscription.clientVersions.has(name));
      if (held.length > 0) {
        removed = removed.filter((name) => !state.subscription.clientVersions.has(name));
        this.#deferred.add(typeUrl);
        // Not sent now: they are what the released pass must find.
        for (const name of held) pendingAfter.add(name);
      }
    }
    // Heartbeats: TTL resources the client holds at their current version and
    // that this response does not carry anyway.
    const heartbeats: EncodedResource[] = [];
    if (this.#heartbeatDue.delete(typeUrl)) {
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
    if (selection.resources.length === 0 && removed.length === 0 && heartbeats.length === 0 && !firstWildcard) return true;
    // One logical response, sent in parts when it would exceed maxResponseBytes.
    const systemVersion = available.version;
    const budget = (this.#o.maxResponseBytes ?? defaultMaxResponseBytes) - this.#o.encoder.fixedBytes({ typeUrl, systemVersion, removed });
    const items = [...selection.resources.map((r) => ({ r, beat: false })), ...heartbeats.map((r) => ({ r, beat: true }))];
    const parts = splitBySize(items, (i) => (i.beat ? this.#o.encoder.heartbeat(i.r) : this.#o.encoder.wrapper(i.r)).length, budget);
    recordDeltaSent(state.subscription, { resources: selection.resources, removed });
    state.latestNonces = new Set();
    state.lastSentVersion = systemVersion;
    state.first = false;
    let writable = true;
    parts.forEach((part, index) => {
      const nonce = String(++this.#nonce);
      const partResources = part.filter((i) => !i.beat).map((i) => i.r);
      const partBeats = part.filter((i) => i.beat).map((i) => i.r);
      const partRemoved = index === 0 ? removed : [];
      const message = this.#o.encoder.encode({ typeUrl, systemVersion, resources: partResources, removed: partRemoved, nonce, heartbeats: partBeats });
      state.latestNonces.add(nonce);
      const responseEvent: DeltaResponseEvent = {
        streamId: this.#o.id,
        variant: "delta",
        ads: this.#s.ads,
        nodeId: this.nodeId,
        typeUrl,
        version: systemVersion,
        nonce,
        resourceNames: partResources.map((r) => r.name),
        removedResources: partRemoved,
        heartbeats: partBeats.map((r) => r.name),
        bytes: message.length,
        part: index + 1,
        parts: parts.length,
      };
      // A part over the limit is one resource that cannot be split: the reporter puts it in status.
      this.#s.report.sentDelta(responseEvent, { maxResponseBytes: this.#o.maxResponseBytes ?? defaultMaxResponseBytes });
      writable = this.#o.transport.write(message) && writable;
    });
    if (this.#s.ads && typeUrl === TypeUrl.Cluster) {
      // Only a client that takes endpoints over this stream is waited for; at
      // startup Envoy asks for listeners only once its clusters are warm anyway.
      const held = this.#types.get(TypeUrl.Endpoint)?.subscription.clientVersions;
      if (held) this.#gate.await(endpointsToAwait(selection.resources, this.#o.watcher.get(this.#s.key, TypeUrl.Endpoint)?.items, held));
    }
    if (typeUrl === TypeUrl.Endpoint) this.#gate.delivered([...selection.resources.map((r) => r.name), ...removed]);
    return writable;
  }

  #hasLaterDirtyTypes(typeUrl: string): boolean {
    for (const t of this.#dirty) if (pushOrder(t) > pushOrder(typeUrl)) return true;
    return false;
  }

  #release(): void {
    this.#gate.dispose();
    this.#heartbeatDue.clear();
    this.#types.clear();
    this.#dirty.clear();
    this.#deferred.clear();
    this.#released.clear();
  }
}
