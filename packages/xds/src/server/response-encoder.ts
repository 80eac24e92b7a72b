import type { EncodedResource } from "../resource/encoded-resource.ts";
import { concat, lengthDelimited, stringField } from "../resource/wire.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";

/** Counters that show encode-once at work: bytes encoded versus bytes written. */
export interface EncoderMetrics {
  /** Response bodies assembled (once per type version and subset, shared by streams). */
  bodiesEncoded: number;
  bodyBytesEncoded: number;
  responsesWritten: number;
  bytesWritten: number;
}

/**
 * Assembles DiscoveryResponse bytes from resources encoded once.
 * The body (version_info, resources, type_url, control_plane) is built once per
 * (type resources, subset) and shared by every stream; only the nonce, a few
 * bytes, is encoded per response. Protobuf allows fields in any order, so the
 * nonce can follow the shared body.
 */
export class SotwResponseEncoder {
  readonly metrics: EncoderMetrics = { bodiesEncoded: 0, bodyBytesEncoded: 0, responsesWritten: 0, bytesWritten: 0 };
  readonly #bodies = new WeakMap<TypeResources, Map<string, Uint8Array>>();
  readonly #controlPlane: Uint8Array;

  constructor(options: { controlPlaneId?: string } = {}) {
    // DiscoveryResponse.control_plane (6) = ControlPlane { identifier (1) }: each
    // Envoy then reports which replica configured it (xds-protocol.md § Operability).
    this.#controlPlane = options.controlPlaneId ? lengthDelimited(6, stringField(1, options.controlPlaneId)) : new Uint8Array(0);
  }

  encode(options: {
    typeUrl: string;
    source: TypeResources;
    subsetKey: string;
    version: string;
    resources: readonly EncodedResource[];
    nonce: string;
  }): Buffer {
    let perSource = this.#bodies.get(options.source);
    if (!perSource) this.#bodies.set(options.source, (perSource = new Map()));
    const bodyKey = `${options.version}\u0000${options.subsetKey}`;
    let body = perSource.get(bodyKey);
    if (!body) {
      const parts: Uint8Array[] = [stringField(1, options.version)];
      for (const r of options.resources) parts.push(lengthDelimited(2, r.any));
      parts.push(stringField(4, options.typeUrl), this.#controlPlane);
      body = concat(parts);
      perSource.set(bodyKey, body);
      this.metrics.bodiesEncoded++;
      this.metrics.bodyBytesEncoded += body.length;
    }
    const out = concat([body, stringField(5, options.nonce)]);
    this.metrics.responsesWritten++;
    this.metrics.bytesWritten += out.length;
    return out;
  }
}
