import type { EncodedResource } from "../resource/encoded-resource.ts";
import { concat, durationBytes, lengthDelimited, stringField } from "../resource/wire.ts";
import { DeltaSharedResponses } from "./delta-shared-responses.ts";
import type { EncoderMetrics } from "./response-encoder.ts";

/** The SotW encoder's counters, plus what Delta responses carried. */
export interface DeltaEncoderMetrics extends EncoderMetrics {
  /** Resources written across all Delta responses (a resource sent to 3 streams counts 3). */
  resourcesWritten: number;
  /** Names written in removed_resources across all Delta responses. */
  removedWritten: number;
  /** TTL heartbeats (name, version, ttl; no body) written. */
  heartbeatsWritten: number;
  /**
   * Bytes copied into response messages (wrappers concatenated). A response
   * shared by the streams that subscribe alike (delta-shared-responses.ts) is
   * assembled once, so this stays ≪ bytesWritten during an initial sync.
   */
  bytesAssembled: number;
}

/**
 * Assembles DeltaDiscoveryResponse bytes from resources encoded once.
 * Each `envoy.service.discovery.v3.Resource{name, version, resource: Any, ttl}`
 * wrapper is encoded once per resource version (here "body" means that
 * wrapper) and shared by every stream and response that carries it; only the
 * small per-response fields (system version, type, nonce, removed names) are
 * encoded per response (docs/xds-protocol.md § Cost; go-control-plane #238, #1324).
 */
export class DeltaResponseEncoder {
  readonly metrics: DeltaEncoderMetrics = {
    bodiesEncoded: 0,
    bodyBytesEncoded: 0,
    responsesWritten: 0,
    bytesWritten: 0,
    resourcesWritten: 0,
    removedWritten: 0,
    heartbeatsWritten: 0,
    bytesAssembled: 0,
  };
  /** DeltaDiscoveryResponse.resources (2) entries, keyed by the immutable encoded resource. */
  readonly #wrappers = new WeakMap<EncodedResource, Uint8Array>();
  readonly #heartbeats = new WeakMap<EncodedResource, Uint8Array>();
  readonly #controlPlane: Uint8Array;
  /** Responses shared by the streams that subscribe alike (initial syncs, full walks). */
  readonly sharedResponses: DeltaSharedResponses = new DeltaSharedResponses(this);

  constructor(options: { controlPlaneId?: string } = {}) {
    // DeltaDiscoveryResponse.control_plane is field 7 (6 in the SotW response).
    this.#controlPlane = options.controlPlaneId ? lengthDelimited(7, stringField(1, options.controlPlaneId)) : new Uint8Array(0);
  }

  /** Builds a resource's wrapper ahead of a response (resource-warmer.ts); one function per encoder. */
  readonly warm = (resource: EncodedResource): void => {
    this.wrapper(resource);
  };

  /** The encoded `resources` entry of one resource, built once per resource version. */
  wrapper(resource: EncodedResource): Uint8Array {
    let w = this.#wrappers.get(resource);
    if (!w) {
      // Resource: version = 1, resource (Any) = 2, name = 3, ttl (Duration) = 6.
      const parts = [stringField(1, resource.version), lengthDelimited(2, resource.any), stringField(3, resource.name)];
      if (resource.ttlMs !== undefined) parts.push(lengthDelimited(6, durationBytes(resource.ttlMs)));
      w = lengthDelimited(2, concat(parts));
      this.#wrappers.set(resource, w);
      this.metrics.bodiesEncoded++;
      this.metrics.bodyBytesEncoded += w.length;
    }
    return w;
  }

  /**
   * The `resources` entry of a TTL heartbeat: name, version and ttl without the
   * resource body. Envoy then only refreshes the TTL of the version it holds
   * (xDS protocol, "TTL"; docs/xds-protocol.md § TTL, heartbeats).
   */
  heartbeat(resource: EncodedResource): Uint8Array {
    let w = this.#heartbeats.get(resource);
    if (!w) {
      const parts = [stringField(1, resource.version), stringField(3, resource.name)];
      if (resource.ttlMs !== undefined) parts.push(lengthDelimited(6, durationBytes(resource.ttlMs)));
      w = lengthDelimited(2, concat(parts));
      this.#heartbeats.set(resource, w);
    }
    return w;
  }

  /** Bytes of a response without its resources (fields, removed names, a nonce), for size budgets. */
  fixedBytes(options: { typeUrl: string; systemVersion: string; removed: readonly string[] }): number {
    let n = this.#controlPlane.length + stringField(1, options.systemVersion).length + stringField(4, options.typeUrl).length + 24;
    for (const name of options.removed) n += lengthDelimited(6, new TextEncoder().encode(name)).length;
    return n;
  }

  encode(options: {
    typeUrl: string;
    systemVersion: string;
    resources: readonly EncodedResource[];
    removed: readonly string[];
    nonce: string;
    /** Resources the client holds whose TTL is refreshed without resending them. */
    heartbeats?: readonly EncodedResource[];
  }): Buffer {
    const out = this.assemble(options);
    this.counted(out, options);
    return out;
  }

  /** What `encode` returns, not counted as written (the stream counts what it writes). */
  assemble(options: { typeUrl: string; systemVersion: string; resources: readonly EncodedResource[]; removed: readonly string[]; nonce: string; heartbeats?: readonly EncodedResource[] }): Buffer {
    return this.#assemble(options, options.nonce);
  }

  /**
   * A response built once for many streams: every field but the nonce, then
   * `nonce` (field 5) last, so `withNonce` can swap it for a stream's own
   * (protobuf fields may come in any order). Not counted as written: `counted`
   * is, per stream that writes it.
   */
  shared(options: { typeUrl: string; systemVersion: string; resources: readonly EncodedResource[]; removed: readonly string[] }, nonce: string): { message: Buffer; bodyBytes: number } {
    const message = this.#assemble({ ...options, trailingNonce: true }, nonce);
    return { message, bodyBytes: message.length - stringField(5, nonce).length };
  }

  /** A shared response's body (its first `bodyBytes`) under another nonce: one copy, for a stream that cannot use the shared nonce. */
  withNonce(shared: { message: Buffer; bodyBytes: number }, nonce: string): Buffer {
    const out = concat([shared.message.subarray(0, shared.bodyBytes), stringField(5, nonce)]);
    this.metrics.bytesAssembled += out.length;
    return out;
  }

  /** Counts one response written to a stream. */
  counted(message: Uint8Array, options: { resources: readonly EncodedResource[]; removed: readonly string[]; heartbeats?: readonly EncodedResource[] }): void {
    this.metrics.responsesWritten++;
    this.metrics.bytesWritten += message.length;
    this.metrics.resourcesWritten += options.resources.length;
    this.metrics.removedWritten += options.removed.length;
    this.metrics.heartbeatsWritten += options.heartbeats?.length ?? 0;
  }

  #assemble(
    options: { typeUrl: string; systemVersion: string; resources: readonly EncodedResource[]; removed: readonly string[]; heartbeats?: readonly EncodedResource[]; trailingNonce?: boolean },
    nonce: string,
  ): Buffer {
    const parts: Uint8Array[] = [stringField(1, options.systemVersion)];
    for (const r of options.resources) parts.push(this.wrapper(r));
    for (const r of options.heartbeats ?? []) parts.push(this.heartbeat(r));
    parts.push(stringField(4, options.typeUrl));
    if (!options.trailingNonce) parts.push(stringField(5, nonce));
    // removed_resources (6) is a repeated string: an empty name must still be written.
    for (const name of options.removed) parts.push(lengthDelimited(6, new TextEncoder().encode(name)));
    parts.push(this.#controlPlane);
    if (options.trailingNonce) parts.push(stringField(5, nonce));
    const out = concat(parts);
    this.metrics.bytesAssembled += out.length;
    return out;
  }
}
