import { toJson, type JsonValue, type Message } from "@bufbuild/protobuf";
import { resourceType, typeUrlOf, envoyRegistry, XdsError, XdsErrorCode } from "@ts-control-plane/xds";

/**
 * A generated resource as Envoy's own proto3 JSON (snake_case field names, `@type` on
 * every Any), the form of config dumps and Envoy's docs: for golden files and for showing
 * an operator what a proxy will receive.
 */
export function resourceToJson(message: Message): JsonValue {
  const type = resourceType(typeUrlOf(message.$typeName));
  if (type === undefined) throw new XdsError(XdsErrorCode.InvalidResource, `${message.$typeName} is not an xDS resource type`);
  return toJson(type.schema, message, { registry: envoyRegistry(), useProtoFieldName: true });
}
