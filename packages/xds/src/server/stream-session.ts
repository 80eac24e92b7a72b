import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { ChangeListener, ConfigWatcher } from "../cache/config-watcher.ts";
import { resourceType } from "../resource/resource-types.ts";
import { encodedFieldBytes } from "./encoded-field-bytes.ts";
import { nodeSizeRefusal } from "./node-size-limit.ts";
import type { StreamReporter } from "./stream-reporter.ts";
import { StatusCode, type StreamError, type StreamTransport } from "./stream-transport.ts";

export interface StreamSessionOptions {
  /** Where the stream reports what happens (the server's one reporter). */
  readonly reporter: StreamReporter;
  readonly id: number;
  readonly variant: "sotw" | "delta";
  /** The type a per-type service serves; undefined for ADS. */
  readonly typeUrl?: string;
  readonly transport: StreamTransport;
  readonly watcher: ConfigWatcher;
  /** Resources of these types changed under the stream's key (with the changed names, when the cache knows them). */
  readonly onChange: ChangeListener;
  /** The stream now reads from another key: every subscribed type is due again. */
  readonly onRekey: () => void;
  /** The stream ended: drop per-type state and timers. */
  readonly onRelease: () => void;
  /** TTL heartbeats: called every heartbeatIntervalMs while the stream is open (off when undefined or 0). */
  readonly heartbeatIntervalMs?: number;
  readonly onHeartbeat?: () => void;
  /**
   * Whether this node may be served on this stream: undefined allows, a string
   * is the refusal reason (authorize-stream.ts). Asked before the stream opens,
   * for every later request that carries a node, and on every rekey with
   * `recheck` (what the node may be can have changed with the configuration).
   */
  readonly authorize?: (node: Node, options?: { recheck: boolean }) => string | undefined;
  /** Largest encoded `node` a request may carry (XdsServerOptions.maxNodeBytes); default 256 KiB (node-size-limit.ts). */
  readonly maxNodeBytes?: number;
}


/**
 * What SotW and Delta streams share: who the node is, which cache key serves
 * it, the watch on that key, the checks every request passes (node on the first
 * request, type_url on ADS, a known type), and how a stream ends. The protocol
 * of each variant lives in its own stream class.
 */
export class StreamSession {
  readonly #o: StreamSessionOptions;
  readonly #report: StreamReporter;
  #node: Node | undefined = undefined;
  #key = "";
  #unwatch: (() => void) | undefined = undefined;
  #closed = false;
  #heartbeatTimer: NodeJS.Timeout | undefined = undefined;

  constructor(options: StreamSessionOptions) {
    this.#o = options;
    this.#report = options.reporter;
  }

  /** Where the stream reports what happens: status, CSDS versions, then the application's hooks. */
  get report(): StreamReporter {
    return this.#report;
  }

  get id(): number {
    return this.#o.id;
  }
  get ads(): boolean {
    return this.#o.typeUrl === undefined;
  }
  get nodeId(): string {
    return this.#node?.id ?? "";
  }
  get key(): string {
    return this.#key;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Decodes and checks one request; undefined after ending the stream with
   * INVALID_ARGUMENT (garbage bytes, no node first, no type_url on ADS, an
   * unknown type): only this stream ends, others keep being served.
   */
  decode<Desc extends DescMessage>(
    bytes: Uint8Array,
    schema: Desc,
  ): { request: MessageShape<Desc>; typeUrl: string } | undefined {
    if (this.#closed) return undefined;
    const messageName = schema.typeName.slice(schema.typeName.lastIndexOf(".") + 1);
    // Measured on the wire, before decoding: an oversized node is never
    // materialised, let alone kept in status (issue 14).
    const nodeField = schema.field["node"];
    const nodeBytes = nodeField === undefined ? undefined : encodedFieldBytes(bytes, nodeField.number);
    const refusal = nodeSizeRefusal({ nodeBytes, maxNodeBytes: this.#o.maxNodeBytes, messageName });
    if (refusal !== undefined) {
      this.fail(StatusCode.ResourceExhausted, refusal);
      return undefined;
    }
    let request: MessageShape<Desc>;
    try {
      request = fromBinary(schema, bytes);
    } catch (error) {
      return this.#reject(`malformed ${messageName}: ${(error as Error).message}`);
    }
    // Both DiscoveryRequest and DeltaDiscoveryRequest carry node and type_url.
    const typeUrl = this.admit(request as unknown as { node?: Node | undefined; typeUrl: string }, messageName);
    return typeUrl === undefined ? undefined : { request, typeUrl };
  }

  /**
   * Checks a decoded request; returns its type URL, or undefined after ending
   * the stream with INVALID_ARGUMENT (only this stream: others keep being served).
   */
  admit(request: { node?: Node | undefined; typeUrl: string }, messageName: string): string | undefined {
    if (this.#closed) return undefined;
    // Only the first request of a stream is guaranteed to carry the node.
    if (!this.#node) {
      if (!request.node) return this.#reject(`the first ${messageName} on a stream must carry 'node'`);
      if (!this.#permit(request.node)) return undefined;
      if (!this.#open(request.node)) return undefined;
    } else if (request.node && !this.#permit(request.node)) {
      // A node that changes mid-stream is asked again: a certificate allowed
      // for one node group must not switch to another on an open stream.
      return undefined;
    }
    let typeUrl = request.typeUrl;
    if (this.ads) {
      if (typeUrl === "") return this.#reject(`a ${messageName} on ADS must set type_url`);
    } else if (typeUrl === "") {
      typeUrl = this.#o.typeUrl as string;
    } else if (typeUrl !== this.#o.typeUrl) {
      return this.#reject(`type_url ${typeUrl} does not belong on the ${this.#o.typeUrl} service`);
    }
    if (!resourceType(typeUrl)) return this.#reject(`unknown type_url ${JSON.stringify(typeUrl)}`);
    return typeUrl;
  }

  /**
   * Asks the cache again which key serves the node, and moves the stream there
   * if it changed (an operator changed node-group selectors).
   */
  rekey(): void {
    if (this.#closed || !this.#node) return;
    // A configuration change may no longer allow this certificate as this
    // node (its group's identities, or the group it maps to, changed): ask again.
    const refusal = this.#o.authorize?.(this.#node, { recheck: true });
    if (refusal !== undefined) {
      this.fail(StatusCode.PermissionDenied, refusal);
      return;
    }
    let key: string;
    try {
      key = this.#o.watcher.keyOf(this.#node);
    } catch {
      return; // keep serving from the old key; opening a stream reports key errors
    }
    if (key === this.#key) return;
    const previousKey = this.#key;
    this.#unwatch?.();
    this.#key = key;
    this.#unwatch = this.#o.watcher.watch(key, this.#o.onChange);
    this.#report.streamRekeyed({ ...this.#event(), cacheKey: key, previousKey });
    this.#o.onRekey();
  }

  /** Ends the stream with an error status. */
  fail(code: number, details: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    const error: StreamError = { code, details };
    this.#report.streamClosed({ ...this.#event(), error }, { opened: this.#node !== undefined });
    this.#o.transport.end(error);
  }

  /** The client or the transport ended the stream: release everything it held. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    if (this.#node) this.#report.streamClosed(this.#event(), { opened: true });
  }

  #reject(details: string): undefined {
    this.fail(StatusCode.InvalidArgument, details);
    return undefined;
  }

  /** Asks `authorize`; a refusal ends the stream with PERMISSION_DENIED before anything is sent. */
  #permit(node: Node): boolean {
    const refusal = this.#o.authorize?.(node);
    if (refusal === undefined) return true;
    this.fail(StatusCode.PermissionDenied, refusal);
    return false;
  }

  #open(node: Node): boolean {
    let key: string;
    try {
      key = this.#o.watcher.keyOf(node);
    } catch (error) {
      this.fail(StatusCode.Internal, `node key function failed: ${(error as Error).message}`);
      return false;
    }
    this.#node = node;
    this.#key = key;
    this.#unwatch = this.#o.watcher.watch(key, this.#o.onChange);
    this.#report.streamOpened({ ...this.#event(), node, cacheKey: key });
    const every = this.#o.heartbeatIntervalMs ?? 0;
    if (every > 0 && this.#o.onHeartbeat) {
      this.#heartbeatTimer = setInterval(this.#o.onHeartbeat, every);
      this.#heartbeatTimer.unref();
    }
    return true;
  }

  #event(): { streamId: number; variant: "sotw" | "delta"; ads: boolean; nodeId: string } {
    return { streamId: this.#o.id, variant: this.#o.variant, ads: this.ads, nodeId: this.nodeId };
  }

  #release(): void {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#o.onRelease();
  }
}
