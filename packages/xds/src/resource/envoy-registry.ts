import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

let registry: Registry | undefined;

/**
 * Every generated Envoy type (and its imports): what `Any` packing, proto3 JSON
 * with `@type`, and the PGV rule check need. Built once, on first use, from the
 * FileDescriptorSet generated next to the Envoy API modules
 * (packages/envoy-api/gen/envoy-api.binpb), found through module resolution so
 * it works from any working directory.
 */
export function envoyRegistry(): Registry {
  if (registry === undefined) {
    // The package's export map appends ".js", so resolve a known module and step to its folder.
    const anchor = import.meta.resolve("@ts-control-plane/envoy-api/validate/validate_pb");
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../envoy-api.binpb", anchor))));
  }
  return registry;
}
