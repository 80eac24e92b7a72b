import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { type CsdsResource, envoyRegistry, resourceType } from "@ts-control-plane/xds";
import { redactedPattern, redactSecrets } from "../log/redact-secrets.ts";

const bytesFields = new Set(["inline_bytes", "inlineBytes"]);

/**
 * The bytes CSDS shows for one resource (the xDS server's `csds.redact`): the resource with
 * its private keys replaced as log/redact-secrets.ts replaces them (issue 13). A bytes field
 * carries the placeholder as its base64, so it still decodes to `<redacted sha256:...>`.
 * Resources that hold no key keep their bytes; one that cannot be re-encoded after
 * redaction is shown empty rather than as it was (fail closed).
 */
export function redactResource(resource: CsdsResource): Uint8Array {
  const type = resourceType(resource.typeUrl);
  if (type === undefined) return new Uint8Array();
  const registry = envoyRegistry();
  const json = toJson(type.schema, fromBinary(type.schema, resource.bytes), { registry });
  const redacted = redactSecrets(json);
  if (redacted === json) return resource.bytes;
  try {
    return toBinary(type.schema, fromJson(type.schema, asBytesFields(redacted), { registry }));
  } catch {
    return new Uint8Array();
  }
}

function asBytesFields(value: JsonValue, field?: string): JsonValue {
  if (typeof value === "string") return field !== undefined && bytesFields.has(field) && redactedPattern.test(value) ? Buffer.from(value).toString("base64") : value;
  if (Array.isArray(value)) return value.map((v) => asBytesFields(v, field));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asBytesFields(v, k)]));
}
