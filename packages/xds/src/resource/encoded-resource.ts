import { toBinary, type DescMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { contentHash } from "./content-hash.ts";
import { resourceType } from "./resource-types.ts";
import { typeUrlOf } from "./type-urls.ts";
import { concat, lengthDelimited, stringField } from "./wire.ts";
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
  const type = resourceType(typeUrl);
  const name = options.name ?? type?.nameOf(message) ?? "";
  if (name === "") {
    throw new XdsError(XdsErrorCode.InvalidResource, `a ${schema.typeName} has no name; every xDS resource needs one`);
  }
  const bytes = toBinary(schema, message);
  const any = concat([stringField(1, typeUrl), lengthDelimited(2, bytes)]);
  const base = { name, typeUrl, version: contentHash(typeUrl, bytes), message, bytes, any };
  return options.ttlMs === undefined ? base : { ...base, ttlMs: options.ttlMs };
}
