import { fromBinary } from "@bufbuild/protobuf";
import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { DiscoveryRequestSchema, type DiscoveryRequest } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { ConfigWatcher } from "../cache/config-watcher.ts";
import type { StatusRegistry } from "../cache/node-status.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { pushOrder, resourceType } from "../resource/resource-types.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { classifySotwRequest } from "../protocol/sotw-request-kind.ts";
import { selectSotw, shouldRespondSotw, type SotwSelection } from "../protocol/sotw-selection.ts";
import { applySotwRequest, type SotwSubscription } from "../protocol/sotw-subscription.ts";
import type { SotwResponseEncoder } from "./response-encoder.ts";
import { StatusCode, type StreamError, type StreamTransport } from "./stream-transport.ts";
import { callHook, type XdsHooks } from "./xds-hooks.ts";

export interface SotwStreamOptions {
  readonly id: number;
  readonly transport: StreamTransport;
  readonly watcher: ConfigWatcher;
  readonly status: StatusRegistry;
  readonly hooks: XdsHooks;
  readonly encoder: SotwResponseEncoder;
  /** The type a per-type service serves; undefined for ADS. */
  readonly typeUrl?: string;
  /** How long listeners and routes wait for a cluster update's ACK before going anyway (ADS). Default 5 s. */
  readonly clusterAckTimeoutMs?: number;
}

interface TypeState {
  subscription: SotwSubscription;
  lastSent?: readonly EncodedResource[];
  lastSentVersion: string;
  latestNonce?: string;
  /** The client asked afresh: answer even if we believe it has the content. */
  initial: boolean;
  /** A response went out and neither ACK nor NACK came back yet. */
  awaitingAck: boolean;
  ackTimer?: NodeJS.Timeout;
}

/**
 * One State-of-the-World stream (ADS or per type): the rules of
 * xds-protocol.md in one place. Responses go out through one ordered pump per
 * stream, in CDS, EDS, LDS, RDS order, one at a time, respecting transport
 * back-pressure (go-control-plane #752, #875: never let two responses race).
 */
export class SotwStream {
  readonly #o: SotwStreamOptions;
  readonly #ads: boolean;
  #node?: Node;
  #key = "";
  #unwatch: (() => void) | undefined = undefined;
  readonly #types = new Map<string, TypeState>();
  readonly #dirty = new Set<string>();
  /** Full-state types whose removals wait until the types after them were sent (make before break). */
  readonly #deferred = new Set<string>();
  #pumping = false;
  #closed = false;
  #nonce = 0;

  constructor(options: SotwStreamOptions) {
    this.#o = options;
    this.#ads = options.typeUrl === undefined;
  }

  get nodeId(): string {
    return this.#node?.id ?? "";
  }

  onRequest(bytes: Uint8Array): void {
    if (this.#closed) return;
    let request: DiscoveryRequest;
    try {
      request = fromBinary(DiscoveryRequestSchema, bytes);
    } catch (error) {
      this.#fail(StatusCode.InvalidArgument, `malformed DiscoveryRequest: ${(error as Error).message}`);
      return;
    }
    // Only the first request of a stream is guaranteed to carry the node.
    if (!this.#node) {
      if (!request.node) {
        this.#fail(StatusCode.InvalidArgument, "the first DiscoveryRequest on a stream must carry 'node'");
        return;
      }
      if (!this.#open(request.node)) return;
    }
    let typeUrl = request.typeUrl;
    if (this.#ads) {
      if (typeUrl === "") {
        this.#fail(StatusCode.InvalidArgument, "a DiscoveryRequest on ADS must set type_url");
        return;
      }
    } else if (typeUrl === "") {
      typeUrl = this.#o.typeUrl as string;
    } else if (typeUrl !== this.#o.typeUrl) {
      this.#fail(StatusCode.InvalidArgument, `type_url ${typeUrl} does not belong on the ${this.#o.typeUrl} service`);
      return;
    }
    const type = resourceType(typeUrl);
    if (!type) {
      this.#fail(StatusCode.InvalidArgument, `unknown type_url ${JSON.stringify(typeUrl)}`);
      return;
    }
    const nodeId = this.nodeId;
    let state = this.#types.get(typeUrl);
    const kind = classifySotwRequest(
      { responseNonce: request.responseNonce, hasErrorDetail: request.errorDetail !== undefined },
      state?.latestNonce,
    );
    const base = { streamId: this.#o.id, variant: "sotw" as const, ads: this.#ads, nodeId, typeUrl };
    callHook(this.#o.hooks, "onRequest", {
      ...base,
      versionInfo: request.versionInfo,
      responseNonce: request.responseNonce,
      resourceNames: request.resourceNames,
      stale: kind === "stale",
    });
    // A stale request answers an older response; a newer one is already on its
    // way, so it must not trigger anything (xds-protocol.md § nonces).
    if (kind === "stale") return;
    if ((kind === "ack" || kind === "nack") && state) this.#acknowledged(state);
    if (kind === "nack") {
      const message = request.errorDetail?.message ?? "";
      const code = request.errorDetail?.code ?? 0;
      const version = state?.lastSentVersion ?? "";
      this.#o.status.nacked(nodeId, typeUrl, { version, nonce: request.responseNonce, message, code });
      callHook(this.#o.hooks, "onNack", { ...base, version, nonce: request.responseNonce, message, code });
    } else if (kind === "ack") {
      this.#o.status.acked(nodeId, typeUrl, request.versionInfo);
      callHook(this.#o.hooks, "onAck", { ...base, version: request.versionInfo, nonce: request.responseNonce });
    }
    const subscription = applySotwRequest(state?.subscription, request.resourceNames, { fullState: type.fullState });
    if (!state) {
      state = { subscription, lastSentVersion: "", initial: true, awaitingAck: false };
      this.#types.set(typeUrl, state);
    } else {
      state.subscription = subscription;
      if (kind === "initial") state.initial = true;
      // Names the client stopped asking for are forgotten, so asking again
      // resends them (go-control-plane #431).
      if (state.lastSent && !subscription.wildcard) state.lastSent = state.lastSent.filter((r) => subscription.names.has(r.name));
    }
    this.#o.status.subscribed(nodeId, typeUrl, subscription.wildcard ? ["*", ...subscription.names] : [...subscription.names]);
    this.#dirty.add(typeUrl);
    void this.#pump();
  }

  /**
   * Asks the cache again which key serves this stream's node, and moves the
   * stream there if it changed (e.g. an operator changed node-group selectors).
   * Every subscribed type is re-evaluated against the new key's resources.
   */
  rekey(): void {
    if (this.#closed || !this.#node) return;
    let key: string;
    try {
      key = this.#o.watcher.keyOf(this.#node);
    } catch {
      return; // keep serving from the old key; the open path reports key errors
    }
    if (key === this.#key) return;
    this.#unwatch?.();
    this.#key = key;
    this.#o.status.streamRekeyed(this.#node.id, key);
    this.#unwatch = this.#o.watcher.watch(key, (typeUrls) => this.#onChange(typeUrls));
    for (const t of this.#types.keys()) this.#dirty.add(t);
    void this.#pump();
  }

  /** The client or the transport ended the stream: release everything it held. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    if (this.#node) callHook(this.#o.hooks, "onStreamClose", { streamId: this.#o.id, variant: "sotw", ads: this.#ads, nodeId: this.nodeId });
  }

  #open(node: Node): boolean {
    let key: string;
    try {
      key = this.#o.watcher.keyOf(node);
    } catch (error) {
      this.#fail(StatusCode.Internal, `node key function failed: ${(error as Error).message}`);
      return false;
    }
    this.#node = node;
    this.#key = key;
    this.#o.status.streamOpened(node, key);
    this.#unwatch = this.#o.watcher.watch(key, (typeUrls) => this.#onChange(typeUrls));
    callHook(this.#o.hooks, "onStreamOpen", { streamId: this.#o.id, variant: "sotw", ads: this.#ads, nodeId: node.id, node, cacheKey: key });
    return true;
  }

  #onChange(typeUrls: ReadonlySet<string>): void {
    if (this.#closed) return;
    for (const t of typeUrls) if (this.#types.has(t)) this.#dirty.add(t);
    if (this.#dirty.size > 0) void this.#pump();
  }

  #nextDirty(): string | undefined {
    if (this.#dirty.size === 0 && this.#deferred.size > 0) {
      for (const t of this.#deferred) this.#dirty.add(t);
      this.#deferred.clear();
    }
    let best: string | undefined;
    for (const t of this.#dirty) {
      if (this.#gated(t)) continue;
      if (best === undefined || pushOrder(t) < pushOrder(best)) best = t;
    }
    if (best !== undefined) this.#dirty.delete(best);
    return best;
  }

  /**
   * On ADS, listeners, routes and later types wait while a cluster update is
   * unacknowledged. Envoy asks for the endpoints of new clusters before it ACKs
   * them, and those requests are answered at once; so by the ACK, the endpoints
   * are on the wire ahead of any route that points at the new clusters. Without
   * this, a route can reach Envoy while its cluster is still warming, and
   * requests get 503 (routes are not warmed: go-control-plane #526, #705, #800).
   */
  #gated(typeUrl: string): boolean {
    if (!this.#ads || pushOrder(typeUrl) <= pushOrder(TypeUrl.Endpoint)) return false;
    return this.#types.get(TypeUrl.Cluster)?.awaitingAck === true;
  }

  #acknowledged(state: TypeState): void {
    state.awaitingAck = false;
    if (state.ackTimer) clearTimeout(state.ackTimer);
    delete state.ackTimer;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let typeUrl = this.#nextDirty(); typeUrl !== undefined && !this.#closed; typeUrl = this.#nextDirty()) {
        const writable = this.#respond(typeUrl);
        if (!writable) await new Promise<void>((resolve) => this.#o.transport.onceDrained(resolve));
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends the type's response if there is something to say; returns false when the transport is full. */
  #respond(typeUrl: string): boolean {
    const state = this.#types.get(typeUrl);
    const type = resourceType(typeUrl);
    const available = this.#o.watcher.get(this.#key, typeUrl);
    // No snapshot for this node yet: the request waits, remembered.
    if (!state || !type || !available) return true;
    let selection = selectSotw(available, state.subscription);
    if (type.fullState && this.#ads && state.lastSent && !state.initial && this.#hasLaterDirtyTypes(typeUrl)) {
      // Make before break: keep resources about to disappear until what
      // replaces them (routes, listeners) was sent, then remove them in a later
      // response (xds-protocol.md § Ordering; go-control-plane #526, #705, #800).
      const kept = state.lastSent.filter((r) => !available.items.has(r.name));
      if (kept.length > 0) {
        selection = withKept(selection, kept);
        this.#deferred.add(typeUrl);
      }
    }
    if (!shouldRespondSotw({ fullState: type.fullState, selection, lastSent: state.lastSent, initial: state.initial })) return true;
    const nonce = String(++this.#nonce);
    const message = this.#o.encoder.encode({
      typeUrl,
      source: available,
      subsetKey: selection.subsetKey,
      version: selection.version,
      resources: selection.resources,
      nonce,
    });
    state.lastSent = selection.resources;
    state.lastSentVersion = selection.version;
    state.latestNonce = nonce;
    state.initial = false;
    if (this.#ads && typeUrl === TypeUrl.Cluster) this.#awaitAck(state);
    this.#o.status.sent(this.nodeId, typeUrl, selection.version, nonce);
    callHook(this.#o.hooks, "onResponse", {
      streamId: this.#o.id,
      variant: "sotw",
      ads: this.#ads,
      nodeId: this.nodeId,
      typeUrl,
      version: selection.version,
      nonce,
      resourceNames: selection.resources.map((r) => r.name),
      bytes: message.length,
    });
    return this.#o.transport.write(message);
  }

  #awaitAck(state: TypeState): void {
    this.#acknowledged(state);
    state.awaitingAck = true;
    // A client that never ACKs must not hold the other types forever.
    state.ackTimer = setTimeout(() => {
      this.#acknowledged(state);
      if (!this.#closed) void this.#pump();
    }, this.#o.clusterAckTimeoutMs ?? 5000);
    state.ackTimer.unref();
  }

  #hasLaterDirtyTypes(typeUrl: string): boolean {
    for (const t of this.#dirty) if (pushOrder(t) > pushOrder(typeUrl)) return true;
    return false;
  }

  #fail(code: number, details: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    const error: StreamError = { code, details };
    callHook(this.#o.hooks, "onStreamClose", { streamId: this.#o.id, variant: "sotw", ads: this.#ads, nodeId: this.nodeId, error });
    this.#o.transport.end(error);
  }

  #release(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    if (this.#node) this.#o.status.streamClosed(this.#node.id);
    for (const state of this.#types.values()) this.#acknowledged(state);
    this.#types.clear();
    this.#dirty.clear();
    this.#deferred.clear();
  }
}

function withKept(selection: SotwSelection, kept: readonly EncodedResource[]): SotwSelection {
  const resources = [...selection.resources, ...kept].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { version: selection.version, resources, subsetKey: `${selection.subsetKey}\u0000kept:${kept.map((r) => r.name).join("\n")}` };
}
