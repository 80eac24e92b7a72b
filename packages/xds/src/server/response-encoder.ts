import type { EncodedResource } from "../resource/encoded-resource.ts";
import { concat, lengthDelimited, stringField } from "../resource/wire.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import { encodeSotwTtlWrapper } from "./sotw-ttl-wrapper.ts";

/** Counters that show encode-once at work: bytes encoded versus bytes written. */
export interface EncoderMetrics {
  /** Response bodies assembled (once per type version and subset, shared by streams). */
  bodiesEncoded: number;
  bodyBytesEncoded: number;
  responsesWritten: number;
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
  /** The Any of a resource with a TTL, wrapped in `Resource`, keyed by the immutable encoded resource. */
  readonly #ttlWrappers = new WeakMap<EncodedResource, Uint8Array>();
  readonly #controlPlane: Uint8Array;

  constructor(options: { controlPlaneId?: string } = {}) {
    // DiscoveryResponse.control_plane (6) = ControlPlane { identifier (1) }: each
    // Envoy then reports which replica configured it (xds-protocol.md § Operability).
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
      this.metrics.bodiesEncoded++;
      this.metrics.bodyBytesEncoded += body.length;
    }
    return body;
  }

  /** Size of the response that `withNonce(body, nonce)` would write. */
  sizeWithNonce(body: Uint8Array, nonce: string): number {
    return body.length + stringField(5, nonce).length;
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
