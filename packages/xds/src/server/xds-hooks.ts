import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";

export interface StreamEvent {
  readonly streamId: number;
  /** "sotw" or "delta", and whether the stream is aggregated (ADS). */
  readonly variant: "sotw" | "delta";
  readonly ads: boolean;
}
export interface StreamOpenEvent extends StreamEvent {
  readonly nodeId: string;
  readonly node: Node;
  readonly cacheKey: string;
}
export interface StreamRekeyEvent extends StreamEvent {
  readonly nodeId: string;
  /** The key the stream reads from now, and the one it read from before. */
  readonly cacheKey: string;
  readonly previousKey: string;
}
export interface StreamCloseEvent extends StreamEvent {
  readonly nodeId: string;
  /** Set when the server ended the stream because of a protocol error. */
  readonly error?: { readonly code: number; readonly details: string };
}
export interface RequestEvent extends StreamEvent {
  readonly nodeId: string;
  readonly typeUrl: string;
  readonly versionInfo: string;
  readonly responseNonce: string;
  readonly resourceNames: readonly string[];
  readonly stale: boolean;
}
export interface ResponseEvent extends StreamEvent {
  readonly nodeId: string;
  readonly typeUrl: string;
  readonly version: string;
  readonly nonce: string;
  readonly resourceNames: readonly string[];
  readonly bytes: number;
}
export interface AckEvent extends StreamEvent {
  readonly nodeId: string;
  readonly typeUrl: string;
  readonly version: string;
  readonly nonce: string;
}
export interface NackEvent extends AckEvent {
  /** Envoy's reason, from error_detail.message. */
  readonly message: string;
  readonly code: number;
}

/**
 * Callbacks on stream life and protocol events (go-control-plane's Callbacks).
 * A hook that throws is reported to `onHookError` and never kills the server or
 * the stream.
 */
export interface XdsHooks {
  readonly onStreamOpen?: (event: StreamOpenEvent) => void;
  readonly onStreamClose?: (event: StreamCloseEvent) => void;
  /** A connected stream moved to another cache key (XdsServer.rekey). */
  readonly onStreamRekey?: (event: StreamRekeyEvent) => void;
  readonly onRequest?: (event: RequestEvent) => void;
  readonly onResponse?: (event: ResponseEvent) => void;
  readonly onAck?: (event: AckEvent) => void;
  readonly onNack?: (event: NackEvent) => void;
  readonly onHookError?: (error: unknown, hook: string) => void;
}

export type HookName = Exclude<keyof XdsHooks, "onHookError">;

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
