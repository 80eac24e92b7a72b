import type { AckEvent, NackEvent, ResponseEvent, StreamCloseEvent, StreamOpenEvent, StreamRekeyEvent } from "./xds-hooks.ts";

/** What {@link XdsMetricsRecorder.responseSent} learns beyond the response event. */
export interface ResponseSentDetails {
  /** True for a TTL heartbeat: nothing changed, the node's resources were refreshed. */
  readonly heartbeat: boolean;
}

/** What {@link XdsMetricsRecorder.acked} learns beyond the ACK event. */
export interface AckDetails {
  /**
   * Milliseconds from the cache change this ACK confirms to the ACK itself:
   * the change was set on the cache (the first stream of its key was told),
   * a response carrying it (or something newer) was sent, and the node
   * accepted it. Undefined when the ACK confirms no change (a first
   * response, a heartbeat, a re-subscription).
   */
  readonly convergenceMs: number | undefined;
}

/**
 * Server-level load figures (XdsServer.metrics, and XdsMetricsRecorder.observeLoad):
 * admission control, write buffers and the stream cap (docs/metrics.md).
 */
export interface XdsServerLoad {
  /** Streams open now, SotW and Delta. */
  readonly openStreams: number;
  /** Streams doing their initial sync now (at most maxInitialSyncs). */
  readonly syncingStreams: number;
  /** Streams waiting for their turn to do their initial sync. */
  readonly queuedStreams: number;
  /** Initial syncs that ended by initialSyncTimeoutMs, not by an answer, since start. */
  readonly initialSyncTimeouts: number;
  /** Bytes written to streams and not yet taken by HTTP/2 (towards slow or stuck clients). */
  readonly bufferedBytes: number;
  /** Streams over their write budget (maxBufferedBytes) now. */
  readonly streamsOverBudget: number;
  /** Streams ended with RESOURCE_EXHAUSTED for staying over budget past stuckStreamTimeoutMs, since start. */
  readonly stuckStreamsEnded: number;
  /** The stream cap now (maxStreams, setMaxStreams); undefined when there is none. */
  readonly maxStreams: number | undefined;
  /** Streams ended with UNAVAILABLE to come back under the cap, since start. */
  readonly streamsShed: number;
  /** New streams refused with UNAVAILABLE at the cap, since start. */
  readonly streamsRefused: number;
}

/**
 * Where the xDS server reports what metrics count (XdsServerOptions.metrics):
 * the one reporting point every stream already goes through, so each number
 * is counted once, for SotW and Delta alike. The library ships a prom-client
 * implementation (`createXdsMetrics` from `@ts-control-plane/xds/metrics`);
 * any other backend implements these few methods. Calls are synchronous and
 * on the stream's path: keep them cheap, and do not throw (a throw is
 * swallowed so that it never reaches the stream).
 */
export interface XdsMetricsRecorder {
  /** A stream received its first request: it now serves `event.nodeId` from `event.cacheKey`. */
  streamOpened(event: StreamOpenEvent): void;
  /** A connected stream now reads from another cache key. */
  streamRekeyed(event: StreamRekeyEvent): void;
  /** A stream ended; `event.error` is set when the server ended it with an error. `opened` is false for a stream that never introduced its node. */
  streamClosed(event: StreamCloseEvent, details: { readonly opened: boolean }): void;
  /** A response (or, for Delta, one part of it) was written. */
  responseSent(event: ResponseEvent, details: ResponseSentDetails): void;
  /** A node accepted a response. */
  acked(event: AckEvent, details: AckDetails): void;
  /** A node rejected a response. */
  nacked(event: NackEvent): void;
  /**
   * Called once by createXdsServer with a reader of its load figures, for
   * gauges read when scraped (queue depth, buffered bytes, shed streams).
   * Optional: a recorder without it does not see them.
   */
  observeLoad?(read: () => XdsServerLoad): void;
}
