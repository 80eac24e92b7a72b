import { DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType, type ResourceType } from "../resource/resource-types.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { classifySotwRequest } from "../protocol/sotw-request-kind.ts";
import { sameContent, selectSotw, shouldRespondSotw, type SotwSelection, type TypeResources } from "../protocol/sotw-selection.ts";
import { readRawSotwRequest, type RawSotwRequest } from "../protocol/sotw-repeat-request.ts";
import { applySotwRequest, rememberRawNames, repeatedNames, type SotwSubscription } from "../protocol/sotw-subscription.ts";
import { selectSotwHeartbeat } from "../protocol/sotw-ttl.ts";
import { endpointsToAwait } from "../protocol/ads-schedule.ts";
import { defaultMaxResponseBytes } from "./delta-stream.ts";
import type { SotwResponseEncoder } from "./response-encoder.ts";
import type { StreamSession } from "./stream-session.ts";
import type { ResponseEvent } from "./xds-hooks.ts";
import { XdsStream, type XdsStreamOptions } from "./xds-stream.ts";

/** What `onResponse` receives for a SotW response (variant "sotw"). */
export interface SotwResponseEvent extends ResponseEvent {
  /**
   * Set on a TTL heartbeat: nothing changed, the resources were resent at the
   * version the client holds so it re-arms their TTLs (sotw-ttl.ts says why
   * SotW resends bodies). The names are those whose TTL it refreshes.
   */
  readonly heartbeats: readonly string[];
}

export interface SotwStreamOptions extends XdsStreamOptions {
  readonly encoder: SotwResponseEncoder;
  /**
   * Every so often, types whose last response carried resources with a TTL
   * are resent unchanged, so Envoy re-arms the TTLs; when heartbeats stop (the
   * control plane is gone), Envoy drops them at expiry. Off when undefined or 0.
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * Largest response written. A SotW response is the whole state and cannot
   * be split: one over the limit is not sent (it would die in a client with a
   * smaller gRPC limit, kuma#16355); status records the error, and the client
   * keeps its last configuration. Default 4 MiB.
   */
  readonly maxResponseBytes?: number;
}

/** What the stream reads from a request: a decoded DiscoveryRequest, or the fields of a repeated ACK. */
interface SotwRequestView {
  readonly versionInfo: string;
  readonly responseNonce: string;
  readonly resourceNames: readonly string[];
  readonly errorDetail?: { readonly message: string; readonly code: number } | undefined;
}

interface TypeState {
  subscription: SotwSubscription;
  lastSent?: readonly EncodedResource[];
  lastSentVersion: string;
  latestNonce?: string;
  /** The client asked afresh: answer even if we believe it has the content. */
  initial: boolean;
  /** The latest response was NACKed: heartbeats must not resend the rejected bytes (#962, #582). */
  nacked: boolean;
  /**
   * What the client NACKed, as sent, until the next response: once what it
   * would be sent differs (the rejected resource was removed, or it stopped
   * asking for it), it is sent, even when that only shrinks a non-full-state
   * set, so the client ACKs a version it runs instead of being left on the
   * rejected one (issue 8: a NACK stayed after its resource was gone).
   */
  rejected?: readonly EncodedResource[];
  /** The latest response carried a resource with a TTL: only such types take part in heartbeats. */
  hasTtl: boolean;
  /** The largest body number sent under its shared nonce for the type: only larger ones may be (response-encoder.ts bodyId). */
  sharedFloor: number;
}

/**
 * One State-of-the-World stream (ADS or per type): decodes requests, selects,
 * encodes and writes responses. What goes next and what waits (push order,
 * the warming gate, deferred removals, heartbeats) is the scheduling policy's
 * (protocol/ads-schedule.ts, through XdsStream), shared with DeltaStream.
 */
export class SotwStream extends XdsStream {
  readonly #o: SotwStreamOptions;
  readonly #s: StreamSession;
  readonly #types = new Map<string, TypeState>();
  #nonce = 0;
  /** The first request (with the node) was decoded and admitted. */
  #opened = false;

  constructor(options: SotwStreamOptions) {
    super(options, "sotw");
    this.#o = options;
    this.#s = this.session;
  }

  onRequest(bytes: Uint8Array): void {
    // Past the first request, an ACK whose encoded names are those of the
    // request that built the subscription skips decoding them (docs/xds-protocol.md § Cost).
    const raw = this.#opened ? readRawSotwRequest(bytes) : undefined;
    if (raw) {
      const typeUrl = this.#s.admit({ typeUrl: raw.typeUrl }, "DiscoveryRequest");
      if (typeUrl === undefined) return; // the stream was ended, as the full decode would have
      const subscription = this.#types.get(typeUrl)?.subscription;
      const names = subscription && repeatedNames(subscription, raw.names);
      if (names) {
        this.#handle({ versionInfo: raw.versionInfo, responseNonce: raw.responseNonce, resourceNames: names }, typeUrl, undefined);
        return;
      }
    }
    const decoded = this.#s.decode(bytes, DiscoveryRequestSchema);
    if (decoded === undefined) return;
    this.#opened = true;
    this.#handle(decoded.request, decoded.typeUrl, raw);
  }

  #handle(request: SotwRequestView, typeUrl: string, raw: RawSotwRequest | undefined): void {
    const type = resourceType(typeUrl) as ResourceType; // admit() checked it is known
    const nodeId = this.nodeId;
    let state = this.#types.get(typeUrl);
    const kind = classifySotwRequest(
      { responseNonce: request.responseNonce, hasErrorDetail: request.errorDetail !== undefined },
      state?.latestNonce,
    );
    const base = { streamId: this.#o.id, variant: "sotw" as const, ads: this.#s.ads, nodeId, typeUrl };
    this.#s.report.request({
      ...base,
      versionInfo: request.versionInfo,
      responseNonce: request.responseNonce,
      resourceNames: request.resourceNames,
      stale: kind === "stale",
    });
    // A stale request answers an older response; a newer one is already on its
    // way, so it must not trigger anything (docs/xds-protocol.md § nonces).
    if (kind === "stale") return;
    if ((kind === "ack" || kind === "nack") && state) state.nacked = kind === "nack";
    if (kind === "nack" && state?.lastSent !== undefined) state.rejected = state.lastSent;
    if (kind === "nack") {
      this.nacked(base, state?.lastSentVersion ?? "", request);
    } else if (kind === "ack") {
      this.#s.report.acked({ ...base, version: request.versionInfo, nonce: request.responseNonce });
    }
    const subscription = applySotwRequest(state?.subscription, request.resourceNames, { fullState: type.fullState });
    if (raw) rememberRawNames(subscription, request.resourceNames, raw.names);
    // An ACK repeating the names gets the very same (shared) subscription back:
    // nothing to re-record, nothing to forget.
    const unchanged = state?.subscription === subscription;
    if (!state) {
      state = { subscription, lastSentVersion: "", initial: true, nacked: false, hasTtl: false, sharedFloor: 0 };
      this.#types.set(typeUrl, state);
    } else {
      state.subscription = subscription;
      if (kind === "initial") state.initial = true;
      // Names the client stopped asking for are forgotten, so asking again
      // resends them (go-control-plane #431).
      if (state.lastSent && !subscription.wildcard && !unchanged) state.lastSent = state.lastSent.filter((r) => subscription.names.has(r.name));
    }
    if (!unchanged) this.#s.report.subscribed(nodeId, typeUrl, subscription.wildcard ? ["*", ...subscription.names] : [...subscription.names]);
    // A first request or a new subscription builds a body: its resources are prepared first.
    this.requested(typeUrl, { prepare: !unchanged || state.initial });
  }

  /** Only types whose last response carried a TTL take part in heartbeats. */
  protected heartbeatTypes(): string[] {
    const beating: string[] = [];
    for (const [t, state] of this.#types) if (state.hasTtl) beating.push(t);
    return beating;
  }

  protected respond(typeUrl: string, type: ResourceType, available: TypeResources): boolean {
    const state = this.#types.get(typeUrl);
    if (!state) return true;
    let selection = selectSotw(available, state.subscription);
    if (type.fullState && state.lastSent && !state.initial && this.policy.holdRemovals(typeUrl)) {
      // Make before break: keep resources about to disappear until what
      // replaces them (routes, listeners) was sent, then remove them in a later
      // response (docs/xds-protocol.md § Ordering; go-control-plane #526, #705, #800).
      const kept = state.lastSent.filter((r) => !available.items.has(r.name));
      if (kept.length > 0) {
        selection = withKept(selection, kept);
        this.policy.heldRemovals(typeUrl);
      }
    }
    const heartbeatDue = this.policy.takeHeartbeat(typeUrl);
    const retry = state.rejected !== undefined && selection.resources.length > 0 && !sameContent(state.rejected, selection.resources);
    if (!retry && !shouldRespondSotw({ fullState: type.fullState, selection, lastSent: state.lastSent, initial: state.initial })) {
      if (!state.initial && !state.nacked && holdsAll(selection, state.subscription)) this.#s.report.settled(this.nodeId, typeUrl, available.version);
      return heartbeatDue ? this.#heartbeat(typeUrl, state, type, available, selection) : true;
    }
    const body = this.#o.encoder.body({ typeUrl, source: available, subsetKey: selection.subsetKey, version: selection.version, resources: selection.resources });
    // A body newer than any this stream sent under a shared nonce goes out as
    // built once for every stream, nonce included; an older one (the client
    // went back to a subset it had) takes a nonce of this stream's own.
    const bodyId = this.#o.encoder.bodyId(body);
    const shared = bodyId > state.sharedFloor;
    const nonce = shared ? this.#o.encoder.sharedNonce(body) : String(++this.#nonce);
    if (!this.#fits(typeUrl, body, nonce, selection.version)) {
      // The client stays on what it has: keep its TTLs alive while we are.
      return heartbeatDue ? this.#heartbeat(typeUrl, state, type, available, selection) : true;
    }
    const message = shared ? this.#o.encoder.withSharedNonce(body) : this.#o.encoder.withNonce(body, nonce);
    if (shared) state.sharedFloor = bodyId;
    state.lastSent = selection.resources;
    state.lastSentVersion = selection.version;
    state.latestNonce = nonce;
    state.initial = false;
    state.nacked = false;
    delete state.rejected;
    state.hasTtl = hasTtl(selection.resources);
    if (this.#s.ads) this.#scheduled(typeUrl, selection.resources);
    this.#emitResponse({ typeUrl, version: selection.version, nonce, resources: selection.resources, bytes: message.length, heartbeats: [] }, { heartbeat: false });
    return this.#o.transport.write(message);
  }

  /**
   * A TTL heartbeat: the type did not change, so what the client holds is
   * resent at its version and Envoy re-arms the TTLs (protocol/sotw-ttl.ts:
   * why SotW resends bodies, and never leaves a listener or cluster out).
   */
  #heartbeat(typeUrl: string, state: TypeState, type: ResourceType, available: TypeResources, selection: SotwSelection): boolean {
    if (state.nacked || state.initial) return true;
    const resources = selectSotwHeartbeat({ fullState: type.fullState, lastSent: state.lastSent, available });
    if (!resources) return true;
    const version = state.lastSentVersion;
    // Usually (LDS, CDS) the heartbeat is the body already sent: reuse it, encode nothing.
    const same = resources === selection.resources && version === selection.version;
    // Otherwise the key names each resource's content: streams holding different content under one version label never share a body.
    const subsetKey = same ? selection.subsetKey : `\u0000heartbeat:${resources.map((r) => `${r.name}\u0001${r.version}`).join("\n")}`;
    const body = this.#o.encoder.body({ typeUrl, source: available, subsetKey, version, resources });
    const nonce = String(++this.#nonce);
    if (!this.#fits(typeUrl, body, nonce, version)) return true;
    const message = this.#o.encoder.withNonce(body, nonce, { heartbeat: true });
    // The client ACKs the heartbeat by its nonce; an older nonce is stale from now on.
    state.latestNonce = nonce;
    const heartbeats = resources.filter((r) => r.ttlMs !== undefined).map((r) => r.name);
    this.#emitResponse({ typeUrl, version, nonce, resources, bytes: message.length, heartbeats }, { heartbeat: true });
    return this.#o.transport.write(message);
  }

  /**
   * Whether a response fits maxResponseBytes. One that does not is not sent:
   * a SotW response is the whole state and cannot be split, and a client with
   * a smaller gRPC limit would drop the stream without saying why
   * (kuma#16355). The error goes to status for the node and type, the client
   * keeps its last configuration, and nothing is retried until the resources
   * or the subscription change.
   */
  #fits(typeUrl: string, body: Uint8Array, nonce: string, version: string): boolean {
    const max = this.#o.maxResponseBytes ?? defaultMaxResponseBytes;
    const size = this.#o.encoder.sizeWithNonce(body, nonce);
    if (size <= max) return true;
    this.#s.report.responseFailed(this.nodeId, typeUrl, {
      code: "response_too_large",
      message: `the ${typeUrl} response at version ${version} is ${size} bytes, over maxResponseBytes ${max}; not sent, the node keeps its last configuration`,
      version,
    });
    return false;
  }

  /**
   * Reports a response written: status, CSDS versions (looked up under the
   * stream's key), then onResponse. A heartbeat resends what the node holds:
   * it neither clears a response error nor changes CSDS versions.
   */
  #emitResponse(
    r: { typeUrl: string; version: string; nonce: string; resources: readonly EncodedResource[]; bytes: number; heartbeats: readonly string[] },
    options: { heartbeat: boolean },
  ): void {
    const event: SotwResponseEvent = {
      streamId: this.#o.id,
      variant: "sotw",
      ads: this.#s.ads,
      nodeId: this.nodeId,
      typeUrl: r.typeUrl,
      version: r.version,
      nonce: r.nonce,
      resourceNames: namesOf(r.resources),
      bytes: r.bytes,
      heartbeats: r.heartbeats,
    };
    this.#s.report.sentSotw(event, { cacheKey: this.#s.key, heartbeat: options.heartbeat });
  }

  /**
   * Tells the scheduler what a response carried, for the warming gate: what
   * the client holds of EDS is the last EDS response sent (a client without
   * EDS on the stream awaits nothing).
   */
  #scheduled(typeUrl: string, resources: readonly EncodedResource[]): void {
    const policy = this.policy;
    if (typeUrl === TypeUrl.Cluster) {
      const eds = this.#types.get(TypeUrl.Endpoint);
      const awaited = eds ? endpointsToAwait(resources, this.#o.watcher.get(this.#s.key, TypeUrl.Endpoint)?.items, versionsOf(eds.lastSent ?? [])) : [];
      policy.clustersSent(awaited, Date.now());
    } else if (typeUrl === TypeUrl.Endpoint && policy.gateClosed) {
      policy.endpointsSent(namesOf(resources));
    }
  }

  protected released(): void {
    this.#types.clear();
  }
}

/** Names of a resource list, once per (immutable, usually shared) list rather than once per stream. */
const names = new WeakMap<readonly EncodedResource[], readonly string[]>();
function namesOf(resources: readonly EncodedResource[]): readonly string[] {
  let n = names.get(resources);
  if (!n) names.set(resources, (n = resources.map((r) => r.name)));
  return n;
}

/** Name -> version of a resource list, once per (immutable, usually shared) list. */
const versions = new WeakMap<readonly EncodedResource[], ReadonlyMap<string, string>>();
function versionsOf(resources: readonly EncodedResource[]): ReadonlyMap<string, string> {
  let v = versions.get(resources);
  if (!v) versions.set(resources, (v = new Map(resources.map((r) => [r.name, r.version]))));
  return v;
}

/** Whether a list carries a resource with a TTL, once per (immutable, usually shared) list. */
const withTtl = new WeakMap<readonly EncodedResource[], boolean>();
function hasTtl(resources: readonly EncodedResource[]): boolean {
  let answer = withTtl.get(resources);
  if (answer === undefined) withTtl.set(resources, (answer = resources.some((r) => r.ttlMs !== undefined)));
  return answer;
}

/** Whether a selection carries every name the subscription asks for: the client is not waiting for anything. */
function holdsAll(selection: SotwSelection, subscription: SotwSubscription): boolean {
  return subscription.wildcard || selection.resources.length === subscription.names.size;
}

function withKept(selection: SotwSelection, kept: readonly EncodedResource[]): SotwSelection {
  const resources = [...selection.resources, ...kept].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { version: selection.version, resources, subsetKey: `${selection.subsetKey}\u0000kept:${kept.map((r) => r.name).join("\n")}` };
}
