import { fromJson, toJson, type JsonValue, type Message } from "@bufbuild/protobuf";
import { envoyRegistry } from "./envoy-registry.ts";
import { XdsError, XdsErrorCode } from "./xds-error.ts";

/**
 * An Envoy message as proto3 JSON with Envoy's snake_case field names, the form
 * of Envoy's own YAML/JSON config and of /config_dump. `Any` fields carry `@type`.
 */
export function envoyToJson(message: Message): JsonValue {
  const registry = envoyRegistry();
  const schema = registry.getMessage(message.$typeName);
  if (!schema) throw new XdsError(XdsErrorCode.InvalidResource, `${message.$typeName} is not an Envoy API type`);
  return toJson(schema, message, { registry, useProtoFieldName: true });
}

/**
 * Parses Envoy's own JSON (or YAML parsed to JSON) into a typed message. The type
 * is given by name, or by the object's `@type` (as in a config dump or an Any).
 * Throws XdsError "invalid_resource" naming the problem (unknown type, field,
 * or value), so callers can turn it into a diagnostic.
 */
export function envoyFromJson(json: JsonValue, options: { typeName?: string } = {}): Message {
  const registry = envoyRegistry();
  let body = json;
  let typeName = options.typeName;
  if (typeName === undefined) {
    if (typeof json !== "object" || json === null || Array.isArray(json) || typeof json["@type"] !== "string") {
      throw new XdsError(XdsErrorCode.InvalidResource, "an Envoy resource in JSON needs '@type' (e.g. type.googleapis.com/envoy.config.cluster.v3.Cluster)");
    }
    const { "@type": typeUrl, ...rest } = json;
    typeName = (typeUrl as string).slice((typeUrl as string).lastIndexOf("/") + 1);
    body = rest;
  }
  const schema = registry.getMessage(typeName);
  if (!schema) throw new XdsError(XdsErrorCode.InvalidResource, `unknown Envoy type '${typeName}'`);
  try {
    return fromJson(schema, body, { registry });
  } catch (error) {
    throw new XdsError(XdsErrorCode.InvalidResource, `${typeName}: ${(error as Error).message}`, { cause: error });
  }
}
