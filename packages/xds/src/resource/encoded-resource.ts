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

/**
 * The encoded resource of each message object that was encoded, so that every
 * snapshot built from the same object (an incremental translator keeps its
 * unchanged messages) shares one encoding. Filled when a resource is encoded,
 * not when it is built: a message that is never sent costs no entry (a
 * WeakMap entry was half the cost of putting a fresh message in a snapshot,
 * ~0.5 µs each; issue 15 item 5), and a resource built from an object before
 * that object was encoded adopts the encoding when it needs one.
 */
const encodedByMessage = new WeakMap<Message, LazyEncodedResource>();

/** The encoded resource some lazy resource built from this very message object became, if one was encoded (as {@link lazyEncodedResource} builds them). */
export function encodedOf(message: Message): EncodedResource | undefined {
  return encodedByMessage.get(message);
}

interface EncodedParts {
  readonly bytes: Uint8Array;
  readonly any: Uint8Array;
  readonly version: string;
}

/**
 * Per resource it holds, besides its name, type URL and message, one slot
 * that is the schema until encoded and the `Any` after, the version, and the
 * `bytes` view once read (streams write the `Any`; the bytes are read for
 * CSDS and redaction, and found by reading the `Any`'s field 2 header): no
 * parts object, no second view per resource. With the flat version string
 * and the hash input kept out of the Buffer pool (content-hash.ts), 20,000
 * encoded resources hold 4.6 MiB less JS heap and 2.3 MiB less Buffer pool
 * than before, ~350 bytes each; unencoded, one field (8 bytes) more (issue
 * 15 item 5: the idle RSS of a snapshot streams were sent).
 */
class LazyEncodedResource implements EncodedResource {
  readonly name: string;
  readonly typeUrl: string;
  readonly message: Message;
  #schemaOrAny: DescMessage | Uint8Array;
  #version = "";
  #bytes: Uint8Array | undefined;

  constructor(schema: DescMessage, typeUrl: string, name: string, message: Message) {
    this.name = name;
    this.typeUrl = typeUrl;
    this.message = message;
    this.#schemaOrAny = schema;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) this.#bytes = anyValue(this.any);
    return this.#bytes;
  }

  get any(): Uint8Array {
    const state = this.#schemaOrAny;
    return state instanceof Uint8Array ? state : this.#encode(state);
  }

  get version(): string {
    const state = this.#schemaOrAny;
    if (!(state instanceof Uint8Array)) this.#encode(state);
    return this.#version;
  }

  #encode(schema: DescMessage): Uint8Array {
    const known = encodedByMessage.get(this.message);
    if (known !== undefined && known.typeUrl === this.typeUrl) {
      // The same object was encoded through another snapshot: its bytes, not a second encoding.
      this.#version = known.#version;
      this.#schemaOrAny = known.#schemaOrAny;
      return known.any;
    }
    let parts: EncodedParts;
    try {
      parts = encodeParts(schema, this.typeUrl, this.message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new XdsError(XdsErrorCode.InvalidResource, `${schema.typeName} '${this.name}' cannot be encoded: ${reason}`, { cause: error });
    }
    this.#version = parts.version;
    // The schema is only needed to encode: the slot holds the Any from now on.
    this.#schemaOrAny = parts.any;
    encodedByMessage.set(this.message, this);
    return parts.any;
  }
}

/**
 * The value (field 2) of an `Any` that {@link encodeParts} built: the
 * type_url field (length-delimited, skipped), then field 2's tag and length,
 * then the message bytes to the end.
 */
function anyValue(any: Uint8Array): Uint8Array {
  let pos = 0;
  while (pos < any.length) {
    const tag = readVarint(any, pos);
    const length = readVarint(any, tag.end);
    if (tag.value === 0x12) return any.subarray(length.end);
    pos = length.end + length.value;
  }
  return any.subarray(any.length);
}

/** A varint at `pos` (a tag or a length: below 2^53), and where it ends. */
function readVarint(bytes: Uint8Array, pos: number): { readonly value: number; readonly end: number } {
  let value = 0;
  let shift = 1;
  let byte: number;
  do {
    byte = bytes[pos++] ?? 0;
    value += (byte & 0x7f) * shift;
    shift *= 128;
  } while (byte & 0x80);
  return { value, end: pos };
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
