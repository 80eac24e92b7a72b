import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";

/** What every hook event carries: which stream it is about. */
export interface StreamEvent {
  /** The server's id for the stream, unique for the server's lifetime. */
  readonly streamId: number;
  /** "sotw" or "delta", and whether the stream is aggregated (ADS). */
  readonly variant: "sotw" | "delta";
  /** True for an aggregated stream (ADS), false for a per-type service stream. */
  readonly ads: boolean;
}
/** A stream's first request arrived: it now has a node (go-control-plane's OnStreamOpen, with the node). */
export interface StreamOpenEvent extends StreamEvent {
  /** The node id of the first request (`node.id`). */
  readonly nodeId: string;
  /** The whole node of the first request, as Envoy sent it. */
  readonly node: Node;
  /** The cache key the stream reads from: the node id unless `nodeKey` maps it. */
  readonly cacheKey: string;
}
/** A connected stream was moved to another cache key by {@link XdsServer.rekey}. */
export interface StreamRekeyEvent extends StreamEvent {
  /** The stream's node id. */
  readonly nodeId: string;
  /** The key the stream reads from now, and the one it read from before. */
  readonly cacheKey: string;
  /** The key the stream read from before. */
  readonly previousKey: string;
}
/** A stream ended, by the client, the server closing, or a protocol error. */
export interface StreamCloseEvent extends StreamEvent {
  /** The stream's node id ("" when it ended before its first request). */
  readonly nodeId: string;
  /** Set when the server ended the stream because of a protocol error. */
  readonly error?: {
    /** The gRPC status code the stream ended with (e.g. 3, INVALID_ARGUMENT). */
    readonly code: number;
    /** The status message sent to the client. */
    readonly details: string;
  };
}
/** A discovery request arrived (go-control-plane's OnStreamRequest). */
export interface RequestEvent extends StreamEvent {
  /** The stream's node id. */
  readonly nodeId: string;
  /** The resource type the request is for. */
  readonly typeUrl: string;
  /** The version the client last accepted for the type ("" on the first request). */
  readonly versionInfo: string;
  /** The nonce of the response this request answers ("" on the first request). */
  readonly responseNonce: string;
  /** The names the client subscribes to; empty for a wildcard subscription. */
  readonly resourceNames: readonly string[];
  /** True when `responseNonce` is not the latest nonce sent for the type: the request is ignored for ACK/NACK. */
  readonly stale: boolean;
}
/** A discovery response was written to a stream (go-control-plane's OnStreamResponse). */
export interface ResponseEvent extends StreamEvent {
  /** The stream's node id. */
  readonly nodeId: string;
  /** The resource type of the response. */
  readonly typeUrl: string;
  /** The response's version_info (SotW) or system_version_info (Delta). */
  readonly version: string;
  /** The response's nonce, which the client's ACK or NACK echoes. */
  readonly nonce: string;
  /** The names of the resources in the response. */
  readonly resourceNames: readonly string[];
  /** The encoded size of the response in bytes. */
  readonly bytes: number;
}
/** The client accepted a response. */
export interface AckEvent extends StreamEvent {
  /** The stream's node id. */
  readonly nodeId: string;
  /** The resource type that was accepted. */
  readonly typeUrl: string;
  /** The version the client now runs. */
  readonly version: string;
  /** The nonce of the accepted response. */
  readonly nonce: string;
}
/** The client rejected a response (a request with error_detail). */
export interface NackEvent extends AckEvent {
  /** Envoy's reason, from error_detail.message. */
  readonly message: string;
  /** The gRPC code in error_detail (usually 3, INVALID_ARGUMENT). */
  readonly code: number;
}

/**
 * Callbacks on stream life and protocol events (go-control-plane's Callbacks).
 * A hook that throws is reported to `onHookError` and never kills the server or
 * the stream.
 */
export interface XdsHooks {
  /** A stream received its first request (and so its node). */
  readonly onStreamOpen?: (event: StreamOpenEvent) => void;
  /** A stream ended. */
  readonly onStreamClose?: (event: StreamCloseEvent) => void;
  /** A connected stream moved to another cache key (XdsServer.rekey). */
  readonly onStreamRekey?: (event: StreamRekeyEvent) => void;
  /** Every discovery request, SotW or Delta (Delta requests carry {@link DeltaRequestEvent}). */
  readonly onRequest?: (event: RequestEvent) => void;
  /** Every response written (Delta responses carry {@link DeltaResponseEvent}). */
  readonly onResponse?: (event: ResponseEvent) => void;
  /** A response was accepted. */
  readonly onAck?: (event: AckEvent) => void;
  /** A response was rejected; the server keeps what it has and waits for new content. */
  readonly onNack?: (event: NackEvent) => void;
  /** A hook threw: the error and the hook's name. */
  readonly onHookError?: (error: unknown, hook: string) => void;
}

/** The name of a hook that receives an event (every hook but `onHookError`). */
export type HookName = Exclude<keyof XdsHooks, "onHookError">;

/** Calls one hook, sending what it throws to `onHookError` (the server's own use; not exported by the package). */
export function callHook<K extends HookName>(hooks: XdsHooks, name: K, event: Parameters<NonNullable<XdsHooks[K]>>[0]): void {
  const fn = hooks[name] as ((e: typeof event) => void) | undefined;
  if (!fn) return;
  try {
    fn(event);
  } catch (error) {
    try {
      hooks.onHookError?.(error, name);
    } catch {
      // A failing error hook must not take the stream down either.
    }
  }
}
