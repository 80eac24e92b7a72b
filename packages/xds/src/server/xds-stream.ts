import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { ConfigWatcher, TypeChange } from "../cache/config-watcher.ts";
import { AdsSchedule, defaultWarmingTimeoutMs } from "../protocol/ads-schedule.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType, type ResourceType } from "../resource/resource-types.ts";
import { OrderedPump } from "./ordered-pump.ts";
import { processResourceWarmer, touchEncoded } from "./resource-warmer.ts";
import { processSendSlicer, type SendSlicer } from "./send-slicer.ts";
import type { StreamReporter } from "./stream-reporter.ts";
import { StreamSession } from "./stream-session.ts";
import type { StreamTransport } from "./stream-transport.ts";
import type { AckEvent } from "./xds-hooks.ts";

/** What every stream takes, SotW or Delta. */
export interface XdsStreamOptions {
  /** Where the stream reports what happens: status, CSDS versions, then the application's hooks. */
  readonly reporter: StreamReporter;
  readonly id: number;
  readonly transport: StreamTransport;
  readonly watcher: ConfigWatcher;
  /** The type a per-type service serves; undefined for ADS. */
  readonly typeUrl?: string;
  /** TTL heartbeats every so often (off when undefined or 0); each variant says what a heartbeat sends. */
  readonly heartbeatIntervalMs?: number;
  /**
   * ADS only: how long listeners and routes may wait for the endpoints of
   * clusters just sent (protocol/ads-schedule.ts). Default 5 s.
   */
  readonly warmingTimeoutMs?: number;
  /** Refuses a node on this stream (a reason) or allows it (undefined); see StreamSessionOptions.authorize. */
  readonly authorize?: (node: Node, options?: { recheck: boolean }) => string | undefined;
  /** Largest encoded `node` a request may carry (XdsServerOptions.maxNodeBytes). */
  readonly maxNodeBytes?: number;
  /**
   * Admission control of initial syncs (admission-queue.ts): nothing is
   * written until `ready` says so; `resume` runs once the stream is admitted.
   * While `syncing`, `idle` is told each time the pump has written all that was due.
   */
  readonly admission?: { readonly syncing: boolean; ready(resume: () => void): boolean; idle(): void };
  /** Where the stream's sends are sliced so the event loop is never blocked long (send-slicer.ts). Default: the process's own. */
  readonly slicer?: SendSlicer;
}

/** The fields every per-type hook event of a stream starts with. */
export type TypeEventBase = Omit<AckEvent, "version" | "nonce">;

/**
 * What SotW and Delta streams share: the session (who the node is, its cache
 * key and watch, how the stream ends), the scheduling policy
 * (protocol/ads-schedule.ts: push order, warming gate, deferred removals,
 * heartbeats), the ordered pump that writes one response at a time and honours
 * back-pressure (go-control-plane #752, #875), and the one timer that opens
 * the warming gate at its deadline. A variant decodes requests, feeds the
 * policy what they mean, and selects, encodes and writes a type's response
 * when the pump asks (`respond`).
 */
export abstract class XdsStream {
  /** Who the stream serves and how it ends (rekey, fail, close). */
  readonly session: StreamSession;
  /** What goes next and what waits; the variant feeds it events. */
  protected readonly policy: AdsSchedule;
  readonly #o: XdsStreamOptions;
  readonly #pumper: OrderedPump;
  readonly #slicer: SendSlicer;
  /** The slicer's key for this stream's resumes after a drain (its starts are keyed by the stream itself). */
  readonly #resumeKey = {};
  /** The slicer's key for this stream's requests, handled one per turn in arrival order. */
  readonly #requestKey = {};
  readonly #inbox: Uint8Array[] = [];
  /** A request waits for its type's resources to be prepared (resource-warmer.ts): later ones wait behind it. */
  #paused = false;
  #gateTimer: NodeJS.Timeout | undefined = undefined;
  /** The deadline #gateTimer was set for. */
  #armed: number | undefined = undefined;
  readonly #resume = (): void => this.pump();

  constructor(options: XdsStreamOptions, variant: "sotw" | "delta") {
    this.#o = options;
    const session = new StreamSession({
      ...options,
      variant,
      onChange: (typeUrls, changes) => {
        if (session.closed) return;
        // Before the policy runs: the response this change causes must find its clock started.
        options.reporter.changed(options.id, typeUrls, typeUrls, this.policy.subscribed);
        this.changed(typeUrls, changes);
        this.policy.changed(typeUrls);
        this.pump();
      },
      onRekey: () => {
        options.reporter.changed(options.id, this.policy.subscribed, undefined, this.policy.subscribed);
        this.changed(new Set(this.policy.subscribed), undefined);
        this.policy.rekeyed();
        this.pump();
      },
      onRelease: () => {
        this.#disarm();
        this.#slicer.forget(this.#resumeKey);
        this.#inbox.length = 0;
        this.policy.clear();
        this.released();
      },
      onHeartbeat: () => {
        // Through the ordered pump like any response, never beside it (#752, #875).
        this.policy.heartbeat(this.heartbeatTypes());
        this.pump();
      },
    });
    this.session = session;
    this.#slicer = options.slicer ?? processSendSlicer;
    this.policy = new AdsSchedule({ ads: session.ads, warmingTimeoutMs: options.warmingTimeoutMs ?? defaultWarmingTimeoutMs });
    this.#pumper = new OrderedPump({
      next: () => {
        const typeUrl = this.policy.next();
        // Every send passes here: the gate's deadline is (re)armed once it
        // settles, whatever closed or opened it.
        this.#arm();
        return typeUrl;
      },
      send: (typeUrl) => this.#send(typeUrl),
      closed: () => session.closed,
      // The next step after a drain goes through the slicer too: it counts the
      // responses in flight and yields between slices (issue 15 item 4).
      onceDrained: (callback) => this.#slicer.awaitDrain(this.#resumeKey, (drained) => options.transport.onceDrained(drained), callback),
      // Only an initial sync wants to know when the pump went idle (a stream with nothing to send gives its slot back).
      onIdle: () => {
        if (options.admission?.syncing === true) options.admission.idle();
      },
    });
  }

  get nodeId(): string {
    return this.session.nodeId;
  }

  abstract onRequest(bytes: Uint8Array): void;

  /**
   * A request from the transport: handled now, or in a later slice when the
   * loop has been busy for a while (send-slicer.ts), always in arrival order.
   */
  receive(bytes: Uint8Array): void {
    this.#inbox.push(bytes);
    if (this.#inbox.length === 1 && !this.#paused) this.#slicer.run(this.#requestKey, () => this.#takeRequest(), { gated: false });
  }

  #takeRequest(): void {
    if (this.#paused) return;
    const bytes = this.#inbox.shift();
    if (bytes !== undefined && !this.session.closed) this.onRequest(bytes);
    if (this.#inbox.length > 0 && !this.#paused) this.#slicer.run(this.#requestKey, () => this.#takeRequest(), { gated: false });
  }

  /**
   * A request made the type due: it is, once the type's resources are
   * prepared when `prepare` (the response will walk them all: a first
   * request, a new subscription). Their first preparation after a snapshot is set runs in slices
   * (resource-warmer.ts) while this stream's later requests wait, so they
   * keep their order; every later stream finds them ready.
   */
  protected requested(typeUrl: string, options: { prepare: boolean }): void {
    const source = options.prepare ? this.#o.watcher.get(this.session.key, typeUrl) : undefined;
    if (source === undefined || processResourceWarmer.warm(source, this.warmResource, () => this.#warmed(typeUrl))) {
      this.policy.requested(typeUrl);
      this.pump();
      return;
    }
    this.#paused = true;
  }

  #warmed(typeUrl: string): void {
    this.#paused = false;
    if (this.session.closed) return;
    this.policy.requested(typeUrl);
    this.pump();
    if (this.#inbox.length > 0) this.#slicer.run(this.#requestKey, () => this.#takeRequest(), { gated: false });
  }

  /** What the variant's responses need of a resource, prepared ahead (one function for every stream of the variant: it keys the preparation). */
  protected get warmResource(): (r: EncodedResource) => void {
    return touchEncoded;
  }

  /** Sends what is due (a call while a drain runs returns at once: the running drain picks it up). */
  protected pump(): void {
    if (this.session.closed) return;
    // Queued behind other initial syncs (a reconnect storm): admission resumes it.
    if (this.#o.admission?.ready(this.#resume) === false) return;
    this.#slicer.run(this, () => this.#pumper.run());
  }

  /** Resources of these types changed under the stream's key (all of them, changes undefined, on a rekey); the policy is told after. */
  protected changed(_typeUrls: ReadonlySet<string>, _changes: ReadonlyMap<string, TypeChange> | undefined): void {}

  /** The stream ended: drop per-type state. */
  protected abstract released(): void;

  /** The types a heartbeat refreshes. */
  protected abstract heartbeatTypes(): Iterable<string>;

  /** Sends the type's response if there is something to say; false when the transport is full. */
  protected abstract respond(typeUrl: string, type: ResourceType, available: TypeResources): boolean;

  /**
   * A NACK: recorded in status and surfaced to hooks, never answered by
   * resending the rejected bytes (#962, #582); the policy opens the warming
   * gate on a CDS NACK.
   */
  protected nacked(base: TypeEventBase, version: string, request: { readonly responseNonce: string; readonly errorDetail?: { readonly message: string; readonly code: number } | undefined }): void {
    const message = request.errorDetail?.message ?? "";
    const code = request.errorDetail?.code ?? 0;
    this.session.report.nacked({ ...base, version, nonce: request.responseNonce, message, code });
    this.policy.nacked(base.typeUrl);
  }

  #send(typeUrl: string): boolean {
    const type = resourceType(typeUrl);
    const available = this.#o.watcher.get(this.session.key, typeUrl);
    // Nothing for this node yet: the request waits, remembered. (Delta must not
    // say "removed" now: the cache simply has not spoken.)
    if (!type || !available) return true;
    const report = this.session.report;
    report.responding(this.#o.id, typeUrl);
    try {
      return this.respond(typeUrl, type, available);
    } finally {
      report.responded(this.#o.id, typeUrl);
    }
  }

  #arm(): void {
    const deadline = this.policy.deadline;
    if (deadline === this.#armed) return;
    this.#disarm();
    if (deadline === undefined) return;
    this.#armed = deadline;
    this.#gateTimer = setTimeout(() => {
      this.#gateTimer = undefined;
      this.#armed = undefined;
      this.policy.tick(Date.now());
      this.pump();
    }, Math.max(0, deadline - Date.now()));
    this.#gateTimer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#gateTimer);
    this.#gateTimer = undefined;
    this.#armed = undefined;
  }
}
