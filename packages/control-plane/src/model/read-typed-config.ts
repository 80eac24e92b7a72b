import { fromJson, toJson, type JsonValue, type Message } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack } from "@bufbuild/protobuf/wkt";
import { envoyRegistry, validateMessage } from "@ts-control-plane/xds";
import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";

/**
 * An extension's typed_config written in Envoy's own JSON/YAML, checked, and kept as the
 * message's canonical proto3 JSON: plain data, so graph fingerprints (build-group-resources.ts
 * graphKey) can serialize it, and the same config written two ways is one version.
 */
export interface TypedConfig {
  typeUrl: string;
  json: JsonValue;
}

/**
 * Reads `rec[key]` as a typed_config (`"@type": type.googleapis.com/...` plus its fields):
 * the type must be in the generated Envoy API, the fields must parse, and the message must
 * pass the protoc-gen-validate rules Envoy enforces on receipt, the same parse and check a
 * RawResource's content gets (raw-resource-spec.ts, check-resource.ts), so a mistake is a
 * diagnostic on this field rather than a NACK from the fleet.
 */
export function readTypedConfig(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], r: SpecReader): TypedConfig | undefined {
  const tp = [...path, key];
  const value = rec[key];
  if (value === undefined) {
    r.error(tp, "schema.required", `${key} is required`, `write the extension's config under ${key}, with its @type, e.g. "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer`);
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    r.error(tp, "schema.type", `${key} must be a mapping`, `write ${key} as a mapping with "@type" and the config's fields`);
    return undefined;
  }
  const body = value as Record<string, unknown>;
  const typeUrl = body["@type"];
  const registry = envoyRegistry();
  const schema = typeof typeUrl === "string" ? registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1)) : undefined;
  if (typeof typeUrl !== "string" || !typeUrl.startsWith("type.googleapis.com/") || schema === undefined) {
    r.error(
      [...tp, "@type"],
      typeUrl === undefined ? "schema.required" : "raw.unknown_type",
      typeUrl === undefined ? `${key} has no @type` : `@type '${String(typeUrl)}' is not a message of the generated Envoy API`,
      "set @type to type.googleapis.com/ followed by the full message name from Envoy's v3 API reference, e.g. envoy.extensions.filters.http.buffer.v3.Buffer",
    );
    return undefined;
  }
  let message: Message | undefined;
  try {
    message = anyUnpack(fromJson(AnySchema, body as JsonValue, { registry }), registry);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    r.error(tp, "raw.parse", `the ${schema.name} does not parse: ${text}`, "fix the field named in the message; field names and values follow Envoy's v3 API reference (snake_case or camelCase)");
    return undefined;
  }
  if (message === undefined) return undefined;
  const [first, ...more] = validateMessage(schema, message, { nowMs: 0 });
  if (first !== undefined) {
    r.error(
      [...tp, ...first.path.split(".")],
      "raw.invalid",
      `the ${schema.name} breaks Envoy's rule ${first.rule}: ${first.message}${more.length > 0 ? ` (and ${more.length} more)` : ""}`,
      "fix the field as Envoy's v3 API reference describes; Envoy would reject this config",
    );
    return undefined;
  }
  return { typeUrl, json: toJson(schema, message, { registry }) };
}
