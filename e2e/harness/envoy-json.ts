import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, toJson, type Message, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Json } from "./config-dump.ts";

let registry: Registry | undefined;

/** Every generated Envoy type, so that `Any` fields (typed_config) can be written as JSON with `@type`. */
export function envoyRegistry(): Registry {
  registry ??= createFileRegistry(
    fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../../packages/envoy-api/gen/envoy-api.binpb", import.meta.url))),
  );
  return registry;
}

/**
 * A protobuf-es Envoy message as proto3 JSON with snake_case field names, the
 * form Envoy's bootstrap and /config_dump use. Lets a test put a resource built
 * for xDS into a static bootstrap, or compare it with a config dump.
 */
export function toEnvoyJson(message: Message): Json {
  const reg = envoyRegistry();
  const schema = reg.getMessage(message.$typeName);
  if (schema === undefined) throw new Error(`no descriptor for ${message.$typeName}`);
  return toJson(schema, message, { registry: reg, useProtoFieldName: true }) as Json;
}
