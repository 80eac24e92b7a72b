import { fromBinary, fromJson, toJson, type Registry } from "@bufbuild/protobuf";
import { DiscoveryRequestSchema, type DiscoveryRequest } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { TypeResources } from "../cache/config-watcher.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType } from "../resource/resource-types.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import type { SotwSelection } from "../protocol/sotw-selection.ts";
import { SotwResponseEncoder } from "./response-encoder.ts";

/** The two encodings REST fetch speaks: proto3 JSON (Envoy's) and binary protobuf. */
export type RestEncoding = "json" | "binary";

export const restMediaTypes: Readonly<Record<RestEncoding, string>> = { json: "application/json", binary: "application/x-protobuf" };

/** The encoding a Content-Type asks for; undefined for one REST fetch does not speak. No Content-Type means JSON. */
export function restEncodingOf(contentType: string | undefined): RestEncoding | undefined {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (media === "" || media === "application/json") return "json";
  if (media === "application/x-protobuf" || media === "application/protobuf") return "binary";
  return undefined;
}

/** Decodes a DiscoveryRequest body; throws XdsError "invalid_argument" saying what is wrong with it. */
export function decodeRestRequest(body: Uint8Array, encoding: RestEncoding, registry: Registry): DiscoveryRequest {
  if (encoding === "binary") {
    try {
      return fromBinary(DiscoveryRequestSchema, body);
    } catch (error) {
      throw new XdsError(XdsErrorCode.InvalidArgument, `malformed DiscoveryRequest (binary protobuf): ${(error as Error).message}`, { cause: error });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (error) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `the body is not JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    // Unknown fields are ignored: an Envoy newer than our generated API may
    // send Node fields we do not know yet, and must still be served.
    return fromJson(DiscoveryRequestSchema, json as never, { registry, ignoreUnknownFields: true });
  } catch (error) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `malformed DiscoveryRequest (proto3 JSON): ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Encodes DiscoveryResponses for REST in either encoding, each resource once:
 * binary bodies come from the shared SotW encoder (pre-encoded Any bytes);
 * JSON bodies are built from each resource's JSON text, made once per resource
 * version and joined, with the nonce, the only per-answer part, last.
 */
export class RestResponseEncoder {
  readonly #binary: SotwResponseEncoder;
  readonly #registry: Registry;
  readonly #controlPlaneJson: string;
  readonly #resourceJson = new WeakMap<EncodedResource, string>();
  readonly #jsonBodies = new WeakMap<TypeResources, Map<string, string>>();

  constructor(options: { registry: Registry; controlPlaneId?: string }) {
    this.#registry = options.registry;
    this.#binary = new SotwResponseEncoder(options.controlPlaneId === undefined ? {} : { controlPlaneId: options.controlPlaneId });
    this.#controlPlaneJson = options.controlPlaneId ? `,"controlPlane":${JSON.stringify({ identifier: options.controlPlaneId })}` : "";
  }

  encode(encoding: RestEncoding, answer: { typeUrl: string; source: TypeResources; selection: SotwSelection; nonce: string }): Buffer {
    const { typeUrl, source, selection, nonce } = answer;
    if (encoding === "binary") {
      return this.#binary.encode({ typeUrl, source, subsetKey: selection.subsetKey, version: selection.version, resources: selection.resources, nonce });
    }
    let bodies = this.#jsonBodies.get(source);
    if (!bodies) this.#jsonBodies.set(source, (bodies = new Map()));
    const bodyKey = `${selection.version}\u0000${selection.subsetKey}`;
    let body = bodies.get(bodyKey);
    if (body === undefined) {
      const resources = selection.resources.map((r) => this.#jsonOf(r)).join(",");
      body = `{"versionInfo":${JSON.stringify(selection.version)},"resources":[${resources}],"typeUrl":${JSON.stringify(typeUrl)}${this.#controlPlaneJson}`;
      bodies.set(bodyKey, body);
    }
    return Buffer.from(`${body},"nonce":${JSON.stringify(nonce)}}`, "utf8");
  }

  /** A resource as the proto3 JSON of an Any: its fields plus "@type". */
  #jsonOf(r: EncodedResource): string {
    let json = this.#resourceJson.get(r);
    if (json === undefined) {
      const type = resourceType(r.typeUrl);
      if (!type) throw new XdsError(XdsErrorCode.InvalidResource, `no schema for ${r.typeUrl}`);
      const fields = toJson(type.schema, r.message, { registry: this.#registry }) as Record<string, unknown>;
      json = JSON.stringify({ "@type": r.typeUrl, ...fields });
      this.#resourceJson.set(r, json);
    }
    return json;
  }
}
