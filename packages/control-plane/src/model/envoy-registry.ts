import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary, createFileRegistry, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

let registry: Registry | undefined;

/**
 * Every generated Envoy type, for Any (`@type`) in proto3 JSON: raw resources are parsed
 * with it and golden files are written with it. Loaded once from envoy-api.binpb, the
 * FileDescriptorSet generated next to the TypeScript types.
 */
export function envoyRegistry(): Registry {
  if (registry !== undefined) return registry;
  const anyGenerated = fileURLToPath(import.meta.resolve("@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb"));
  const genRoot = anyGenerated.slice(0, anyGenerated.lastIndexOf("/gen/") + "/gen/".length);
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(`${genRoot}envoy-api.binpb`));
  registry = createFileRegistry(set);
  return registry;
}
