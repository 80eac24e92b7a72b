import type { Message } from "@bufbuild/protobuf";
import { resourceType, typeUrlOf, validateMessage, type Violation } from "@ts-control-plane/xds";

/**
 * Checks one generated resource against the protoc-gen-validate rules Envoy enforces on
 * receipt (xds-protocol.md § Consistency before sending): a violation here would be a
 * fleet-wide NACK later. The clock is pinned so the result never depends on time; our
 * resources carry no timestamps, so the `*_now` rules never apply to them.
 */
export function checkResource(message: Message): Violation[] {
  const schema = resourceType(typeUrlOf(message.$typeName))?.schema;
  if (schema === undefined) return [];
  return validateMessage(schema, message, { nowMs: 0 });
}
