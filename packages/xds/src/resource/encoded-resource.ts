import { toBinary, type DescMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { contentHash } from "./content-hash.ts";
import { type ResourceType, resourceType } from "./resource-types.ts";
import { typeUrlOf } from "./type-urls.ts";
import { stringField, withLengthDelimited } from "./wire.ts";
import { XdsError, XdsErrorCode } from "./xds-error.ts";

/**
 * One resource, encoded once. Every stream that receives this version of the
 * resource is written the same bytes (docs/xds-protocol.md § Cost: re-marshalling per
 * client is what makes peers slow, go-control-plane #238, java-control-plane #98).
 */
export interface EncodedResource {
  /** The resource's name (the type's name field, e.g. Cluster.name). */
  readonly name: string;
  /** The resource's type URL. */
  readonly typeUrl: string;
  /** Content hash of the encoded bytes: the per-resource version (Delta). */
  readonly version: string;
  /** The typed message, for reference checks and validation; never mutate it. */
  readonly message: Message;
  /** The message's protobuf encoding. */
  readonly bytes: Uint8Array;
  /** `google.protobuf.Any` of the message, encoded. */
  readonly any: Uint8Array;
  /** Time to live in milliseconds, when the resource carries one. */
  readonly ttlMs?: number;
}

/** Options of {@link encodeResource}. */
export interface EncodeOptions {
  /** Overrides the resource name; by default the type's name field. */
  readonly name?: string;
  /** Time to live in milliseconds: the resource is sent wrapped in a `Resource` with `ttl`, and kept alive by heartbeats (xDS TTL). */
  readonly ttlMs?: number;
}

/** Encodes a typed message as an xDS resource. */
export function encodeResource<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  options: EncodeOptions = {},
): EncodedResource {
  const typeUrl = typeUrlOf(schema.typeName);
  const name = resourceName(schema, typeUrl, message, options);
  const base = { name, typeUrl, message, ...encodeParts(schema, typeUrl, message) };
  return options.ttlMs === undefined ? base : { ...base, ttlMs: options.ttlMs };
}

/**
 * An {@link EncodedResource} whose bytes, `Any` and version are computed on
 * first use, then kept: a snapshot set while nobody watches its key costs no
 * encoding, and a resource nobody is sent is never encoded (issue 15: setting
 * 10,000 fresh messages was 14x go-control-plane, which also marshals only
 * when it responds). The version is still the content hash of the
 * deterministic encoding, so it does not depend on when it was computed.
 * The message must not be mutated after it was handed over (as for any
 * snapshot resource). An encoding failure (a number out of its field's range)
 * surfaces at first use as XdsError "invalid_resource" naming the resource.
 */
export function lazyEncodedResource(type: ResourceType, message: Message): EncodedResource {
  const name = type.nameOf(message);
  if (name === "") throw noName(type.schema);
  return new LazyEncodedResource(type.schema, type.typeUrl, name, message);
}

interface EncodedParts {
  readonly bytes: Uint8Array;
  readonly any: Uint8Array;
  readonly version: string;
}

/**
 * Per resource it holds the `Any` and where the message bytes start in it,
 * not a parts object nor a second view for `bytes` (made on first read:
 * streams write the `Any`, the bytes are read for CSDS and redaction): about
 * 140 bytes of heap less per encoded resource, 2.7 MiB for 20,000 (issue 15
 * item 5: the idle RSS of a snapshot streams were sent).
 */
class LazyEncodedResource implements EncodedResource {
  readonly name: string;
  readonly typeUrl: string;
  readonly message: Message;
  #schema: DescMessage | undefined;
  #any: Uint8Array | undefined;
  #offset = 0;
  #version = "";
  #bytes: Uint8Array | undefined;

  constructor(schema: DescMessage, typeUrl: string, name: string, message: Message) {
    this.name = name;
    this.typeUrl = typeUrl;
    this.message = message;
    this.#schema = schema;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) this.#bytes = this.any.subarray(this.#offset);
    return this.#bytes;
  }

  get any(): Uint8Array {
    return this.#any ?? this.#encode();
  }

  get version(): string {
    if (this.#any === undefined) this.#encode();
    return this.#version;
  }

  #encode(): Uint8Array {
    const schema = this.#schema as DescMessage;
    let parts: EncodedParts;
    try {
      parts = encodeParts(schema, this.typeUrl, this.message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new XdsError(XdsErrorCode.InvalidResource, `${schema.typeName} '${this.name}' cannot be encoded: ${reason}`, { cause: error });
    }
    this.#offset = parts.any.length - parts.bytes.length;
    this.#version = parts.version;
    // The schema is only needed to encode: drop the reference once done.
    this.#schema = undefined;
    this.#any = parts.any;
    return parts.any;
  }
}

function resourceName(schema: DescMessage, typeUrl: string, message: Message, options: EncodeOptions): string {
  const name = options.name ?? resourceType(typeUrl)?.nameOf(message) ?? "";
  if (name === "") throw noName(schema);
  return name;
}

const noName = (schema: DescMessage): XdsError => new XdsError(XdsErrorCode.InvalidResource, `a ${schema.typeName} has no name; every xDS resource needs one`);

/** `Any.type_url` (field 1) per type URL, encoded once rather than for every resource. */
const typeUrlFields = new Map<string, Uint8Array>();

function encodeParts(schema: DescMessage, typeUrl: string, message: Message): EncodedParts {
  const encoded = toBinary(schema, message);
  let typeUrlField = typeUrlFields.get(typeUrl);
  if (typeUrlField === undefined) typeUrlFields.set(typeUrl, (typeUrlField = stringField(1, typeUrl)));
  const any = withLengthDelimited(typeUrlField, 2, encoded);
  // The message bytes are the tail of the Any: one copy held, not two.
  const bytes = any.subarray(any.length - encoded.length);
  return { bytes, any, version: contentHash(typeUrl, bytes) };
}
