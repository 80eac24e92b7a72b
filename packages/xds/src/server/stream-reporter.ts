import type { ResponseErrorInfo, StatusRegistry } from "../cache/node-status.ts";
import { ConvergenceClock } from "./convergence-clock.ts";
import type { CsdsResourceVersions } from "./csds-resource-versions.ts";
import type { DeltaResponseEvent } from "./delta-stream.ts";
import type { SotwResponseEvent } from "./sotw-stream.ts";
import {
  callHook,
  type AckEvent,
  type NackEvent,
  type RequestEvent,
  type StreamCloseEvent,
  type StreamOpenEvent,
  type ResponseEvent,
  type StreamRekeyEvent,
  type XdsHooks,
} from "./xds-hooks.ts";
import type { XdsMetricsRecorder } from "./xds-metrics-recorder.ts";

export interface StreamReporterOptions {
  readonly status: StatusRegistry;
  /** The application's hooks, called after the server's own records are up to date. */
  readonly hooks?: XdsHooks;
  /** CSDS per-resource versions, learnt from SotW responses and Delta resources as sent. */
  readonly resourceVersions?: CsdsResourceVersions;
  /** Where metrics are counted (XdsServerOptions.metrics); without one, no clock runs. */
  readonly metrics?: XdsMetricsRecorder;
  /** Told of every response sent (heartbeats excluded) and every ACK or NACK: admission control ends a stream's initial sync by them. */
  readonly sync?: SyncListener;
}

/** What admission control learns from streams (admission-queue.ts). */
export interface SyncListener {
  /** A response of the type was written on the stream (not a heartbeat). */
  sent(streamId: number, typeUrl: string): void;
  /** The client ACKed or NACKed a response of the type. */
  answered(streamId: number, typeUrl: string): void;
}

/**
 * Where streams report what happened, one object per server: it keeps the
 * server's own records (per-node status, CSDS per-resource versions,
 * response errors), then calls the application's hooks through callHook, so
 * a throwing hook reaches onHookError and never the stream. The server's
 * bookkeeping does not ride on the public hooks: an application hook sees
 * records that already include the event it is told about.
 */
export class StreamReporter {
  readonly status: StatusRegistry;
  readonly #hooks: XdsHooks;
  readonly #versions: CsdsResourceVersions | undefined;
  readonly #metrics: XdsMetricsRecorder | undefined;
  /** Convergence time per stream and type; only with a metrics recorder, so streams without one pay nothing. */
  readonly #clock: ConvergenceClock | undefined;
  readonly #sync: SyncListener | undefined;

  constructor(options: StreamReporterOptions) {
    this.status = options.status;
    this.#hooks = options.hooks ?? {};
    this.#versions = options.resourceVersions;
    this.#metrics = options.metrics;
    this.#clock = options.metrics === undefined ? undefined : new ConvergenceClock();
    this.#sync = options.sync;
  }

  streamOpened(event: StreamOpenEvent): void {
    this.status.streamOpened(event.node, event.cacheKey);
    if (this.#metrics) record(() => this.#metrics?.streamOpened(event));
    callHook(this.#hooks, "onStreamOpen", event);
  }

  streamRekeyed(event: StreamRekeyEvent): void {
    this.status.streamRekeyed(event.nodeId, event.cacheKey);
    if (this.#metrics) record(() => this.#metrics?.streamRekeyed(event));
    callHook(this.#hooks, "onStreamRekey", event);
  }

  /**
   * The cache changed these types under the stream's key (`change`: the
   * notification's typeUrls set, one object per change), or the stream moved
   * to another key (`change` undefined): convergence clocks start for the
   * types the stream serves (server/convergence-clock.ts).
   */
  changed(streamId: number, typeUrls: Iterable<string>, change: object | undefined, subscribed: ReadonlySet<string>): void {
    this.#clock?.changed(streamId, typeUrls, change, subscribed);
  }

  /** The stream decides what to send for the type now; {@link responded} when it has. */
  responding(streamId: number, typeUrl: string): void {
    this.#clock?.responding(streamId, typeUrl);
  }

  /** The stream decided what to send for the type (maybe nothing). */
  responded(streamId: number, typeUrl: string): void {
    this.#clock?.responded(streamId, typeUrl);
  }

  /**
   * `opened`: the stream had introduced its node (status counted it). A stream
   * ended before that (a bad first request) still tells onStreamClose when the
   * server ended it, with the error.
   */
  streamClosed(event: StreamCloseEvent, options: { opened: boolean }): void {
    // Its last stream gone, a node keeps a slim record (issue 14): what a
    // Delta stream held goes with the stream; a reconnect says again what it
    // has (initial_resource_versions).
    if (options.opened && this.status.streamClosed(event.nodeId)) this.#versions?.forgetDeltaHeld(event.nodeId);
    if (this.#metrics) {
      this.#clock?.closed(event.streamId);
      record(() => this.#metrics?.streamClosed(event, options));
    }
    callHook(this.#hooks, "onStreamClose", event);
  }

  request(event: RequestEvent): void {
    callHook(this.#hooks, "onRequest", event);
  }

  /** The names the node subscribes to for a type changed ("*" for wildcard). */
  subscribed(nodeId: string, typeUrl: string, names: readonly string[]): void {
    this.status.subscribed(nodeId, typeUrl, names);
  }

  /** Nothing new to send the node for a type at this cache version (TypeStatus.settledVersion). */
  settled(nodeId: string, typeUrl: string, version: string): void {
    this.status.settled(nodeId, typeUrl, version);
  }

  acked(event: AckEvent): void {
    this.status.acked(event.nodeId, event.typeUrl, event.version);
    this.#sync?.answered(event.streamId, event.typeUrl);
    if (this.#metrics) {
      const convergenceMs = this.#clock?.acked(event.streamId, event.typeUrl);
      record(() => this.#metrics?.acked(event, { convergenceMs }));
    }
    callHook(this.#hooks, "onAck", event);
  }

  nacked(event: NackEvent): void {
    this.status.nacked(event.nodeId, event.typeUrl, { version: event.version, nonce: event.nonce, message: event.message, code: event.code });
    this.#sync?.answered(event.streamId, event.typeUrl);
    if (this.#metrics) {
      this.#clock?.nacked(event.streamId, event.typeUrl);
      record(() => this.#metrics?.nacked(event));
    }
    callHook(this.#hooks, "onNack", event);
  }

  /**
   * A SotW response went out. `cacheKey` is the key the stream selected it
   * from: CSDS looks the sent names up there, synchronously, while the cache
   * still holds what was selected. A TTL heartbeat changes nothing the node
   * holds, and while an update is held back as too large it resends what the
   * node had, older than the cache: it feeds neither CSDS versions nor clears
   * a response error.
   */
  sentSotw(event: SotwResponseEvent, options: { cacheKey: string; heartbeat: boolean }): void {
    this.status.sent(event.nodeId, event.typeUrl, event.version, event.nonce, { error: options.heartbeat ? "keep" : "clear" });
    if (!options.heartbeat) this.#sync?.sent(event.streamId, event.typeUrl);
    if (!options.heartbeat) {
      this.#versions?.recordSotwResponse({
        nodeId: event.nodeId,
        cacheKey: options.cacheKey,
        typeUrl: event.typeUrl,
        versionInfo: event.version,
        resourceNames: event.resourceNames,
      });
    }
    if (this.#metrics) this.#sent(event, options.heartbeat);
    callHook(this.#hooks, "onResponse", event);
  }

  /**
   * One part of a Delta response went out. Delta splits a large response,
   * but a single resource over maxResponseBytes still makes a part over it
   * (protocol/delta-split.ts): it is sent, and status reports
   * response_too_large, like a SotW response that is not sent (kuma#16355).
   * The type's next response clears it; other parts of the same response
   * (same version) do not.
   */
  sentDelta(event: DeltaResponseEvent, options: { maxResponseBytes: number; held?: ReadonlyMap<string, string> }): void {
    this.status.sent(event.nodeId, event.typeUrl, event.version, event.nonce);
    this.#sync?.sent(event.streamId, event.typeUrl);
    if (options.held !== undefined) this.#versions?.recordDeltaHeld({ nodeId: event.nodeId, typeUrl: event.typeUrl, held: options.held });
    const max = options.maxResponseBytes;
    if (event.bytes > max) {
      this.status.responseFailed(event.nodeId, event.typeUrl, {
        code: "response_too_large",
        message: `the ${event.typeUrl} resource ${event.resourceNames.join(", ")} alone makes a ${event.bytes}-byte Delta response (part ${event.part} of ${event.parts}), over maxResponseBytes ${max}: a resource cannot be split`,
        version: event.version,
      });
    }
    // A part that only re-announces TTL resources changes nothing the node holds.
    if (this.#metrics) this.#sent(event, event.resourceNames.length === 0 && event.removedResources.length === 0 && event.heartbeats.length > 0);
    callHook(this.#hooks, "onResponse", event);
  }

  #sent(event: ResponseEvent, heartbeat: boolean): void {
    if (!heartbeat) this.#clock?.sent(event.streamId, event.typeUrl);
    record(() => this.#metrics?.responseSent(event, { heartbeat }));
  }

  /** A response could not be sent (SotW over maxResponseBytes): the node keeps what it has. */
  responseFailed(nodeId: string, typeUrl: string, error: Omit<ResponseErrorInfo, "at">): void {
    this.status.responseFailed(nodeId, typeUrl, error);
  }
}

/** A recorder that throws must not reach the stream (XdsMetricsRecorder says so). */
function record(fn: () => void): void {
  try {
    fn();
  } catch {
    // Metrics are best effort; the stream's own records are already up to date.
  }
}
