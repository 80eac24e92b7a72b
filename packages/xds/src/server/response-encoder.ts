import type { EncodedResource } from "../resource/encoded-resource.ts";
import { concat, lengthDelimited, stringField, varintSize } from "../resource/wire.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import { encodeSotwTtlWrapper } from "./sotw-ttl-wrapper.ts";

/** Counters that show encode-once at work: bytes encoded versus bytes written. */
export interface EncoderMetrics {
  /** Response bodies assembled (once per type version and subset, shared by streams). */
  bodiesEncoded: number;
  /** Bytes of those bodies. */
  bodyBytesEncoded: number;
  /** Responses written to streams. */
  responsesWritten: number;
  /** Bytes written to streams: bodies shared by many streams count once per stream. */
  bytesWritten: number;
}

/** The SotW encoder's counters, plus TTL wrappers and heartbeats. */
export interface SotwEncoderMetrics extends EncoderMetrics {
  /** `Resource` wrappers built for resources with a TTL (once per resource version). */
  ttlWrappersEncoded: number;
  /** TTL heartbeat responses written. */
  heartbeatsWritten: number;
}

/** What one response body is made of; bodies with the same source, version and subsetKey are the same bytes. */
export interface SotwBodyOptions {
  readonly typeUrl: string;
  readonly source: TypeResources;
  readonly subsetKey: string;
  readonly version: string;
  readonly resources: readonly EncodedResource[];
}

/**
 * Assembles DiscoveryResponse bytes from resources encoded once.
 * The body (version_info, resources, type_url, control_plane) is built once per
 * (type resources, subset) and shared by every stream; only the nonce, a few
 * bytes, is encoded per response. Protobuf allows fields in any order, so the
 * nonce can follow the shared body.
 */
export class SotwResponseEncoder {
  readonly metrics: SotwEncoderMetrics = {
    bodiesEncoded: 0,
    bodyBytesEncoded: 0,
    responsesWritten: 0,
    bytesWritten: 0,
    ttlWrappersEncoded: 0,
    heartbeatsWritten: 0,
  };
  readonly #bodies = new WeakMap<TypeResources, Map<string, Uint8Array>>();
  /** Per body: its id (increasing in creation order) and, once asked for, the whole response with its shared nonce. */
  readonly #shared = new WeakMap<Uint8Array, { readonly id: number; message?: Buffer }>();
  #lastBodyId = 0;
  /** The Any of a resource with a TTL, wrapped in `Resource`, keyed by the immutable encoded resource. */
  readonly #ttlWrappers = new WeakMap<EncodedResource, Uint8Array>();
  readonly #controlPlane: Uint8Array;

  constructor(options: { controlPlaneId?: string } = {}) {
    // DiscoveryResponse.control_plane (6) = ControlPlane { identifier (1) }: each
    // Envoy then reports which replica configured it (docs/xds-protocol.md § Operability).
    this.#controlPlane = options.controlPlaneId ? lengthDelimited(6, stringField(1, options.controlPlaneId)) : new Uint8Array(0);
  }

  encode(options: SotwBodyOptions & { nonce: string }): Buffer {
    return this.withNonce(this.body(options), options.nonce);
  }

  /** The shared part of a response (everything but the nonce), built once per (source, version, subset). */
  body(options: SotwBodyOptions): Uint8Array {
    let perSource = this.#bodies.get(options.source);
    if (!perSource) this.#bodies.set(options.source, (perSource = new Map()));
    const bodyKey = `${options.version}\u0000${options.subsetKey}`;
    let body = perSource.get(bodyKey);
    if (!body) {
      const parts: Uint8Array[] = [stringField(1, options.version)];
      for (const r of options.resources) parts.push(lengthDelimited(2, this.#anyOf(r)));
      parts.push(stringField(4, options.typeUrl), this.#controlPlane);
      body = concat(parts);
      perSource.set(bodyKey, body);
      this.#shared.set(body, { id: ++this.#lastBodyId });
      this.metrics.bodiesEncoded++;
      this.metrics.bodyBytesEncoded += body.length;
    }
    return body;
  }

  /**
   * A body's number: bodies built later have larger ones. A stream may send a
   * body under its shared nonce only if the number is larger than that of any
   * body it sent so under the type: then every nonce on the stream stays
   * unique, and the latest response tells from older ones as with per-stream
   * nonces (sotw-request-kind.ts).
   */
  bodyId(body: Uint8Array): number {
    return this.#shared.get(body)?.id ?? 0;
  }

  /** The nonce every stream sending this body as a shared response uses; never a per-stream nonce (those are digits only). */
  sharedNonce(body: Uint8Array): string {
    return `b${this.bodyId(body)}`;
  }

  /**
   * The body and its shared nonce, built once and written as is to every stream
   * that may use it: a fan-out of a 1.4 MiB body to 1,000 streams copies nothing
   * (docs/xds-protocol.md § Cost), where `withNonce` copies the body per stream.
   */
  withSharedNonce(body: Uint8Array): Buffer {
    const entry = this.#shared.get(body);
    if (!entry) return this.withNonce(body, this.sharedNonce(body));
    if (!entry.message) entry.message = concat([body, stringField(5, this.sharedNonce(body))]);
    this.metrics.responsesWritten++;
    this.metrics.bytesWritten += entry.message.length;
    return entry.message;
  }

  /** Size of the response that `withNonce(body, nonce)` would write. */
  sizeWithNonce(body: Uint8Array, nonce: string): number {
    if (nonce === "") return body.length;
    // Counted, not encoded: this runs for every response.
    const n = Buffer.byteLength(nonce);
    return body.length + varintSize((5 << 3) | 2) + varintSize(n) + n;
  }

  /** The response as written: the shared body, then this stream's nonce. */
  withNonce(body: Uint8Array, nonce: string, options: { heartbeat?: boolean } = {}): Buffer {
    const out = concat([body, stringField(5, nonce)]);
    this.metrics.responsesWritten++;
    this.metrics.bytesWritten += out.length;
    if (options.heartbeat) this.metrics.heartbeatsWritten++;
    return out;
  }

  /**
   * A resource with a TTL goes out wrapped in `envoy.service.discovery.v3.Resource`
   * (xDS protocol, "SotW TTL"), built once per resource version and shared;
   * others go out as their plain Any.
   */
  #anyOf(r: EncodedResource): Uint8Array {
    if (r.ttlMs === undefined) return r.any;
    let w = this.#ttlWrappers.get(r);
    if (!w) {
      w = encodeSotwTtlWrapper(r, r.ttlMs);
      this.#ttlWrappers.set(r, w);
      this.metrics.ttlWrappersEncoded++;
    }
    return w;
  }
}
