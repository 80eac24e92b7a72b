import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

let registry: Registry | undefined;

/**
 * Every generated Envoy type, for proto3 JSON: a resource's `Any` fields
 * (typed_config of filters, transport sockets...) can only be written and read
 * as JSON with `@type` when their message types are known. Loaded once, on first
 * use, from the FileDescriptorSet the envoy-api package generates beside its
 * modules, found through the package's module resolution (works from any cwd).
 */
export function restEnvoyRegistry(): Registry {
  if (registry === undefined) {
    // The package's export map appends ".js": resolve a known module and step to the gen folder.
    const anchor = import.meta.resolve("@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb");
    const bytes = readFileSync(new URL("../../../../envoy-api.binpb", anchor));
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  }
  return registry;
}
