import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

let registry: Registry | undefined;

/**
 * Every generated Envoy type (and its imports): what `Any` packing, proto3 JSON
 * with `@type`, and the PGV rule check need. Built once, on first use, from the
 * FileDescriptorSet that `@ts-control-plane/envoy-api` ships beside its modules
 * (its export `./envoy-api.binpb`).
 *
 * The file is found through package resolution, not a path relative to this
 * module, so it works from the repository's sources, from the built `dist/`,
 * and from an installed package whose dependencies npm hoisted or nested.
 * `createRequire().resolve` rather than `import.meta.resolve`: the latter is
 * synchronous only from Node 20.6, and the library supports every Node 20.
 *
 * @returns The protobuf-es registry of every Envoy v3 message, enum and extension.
 */
export function envoyRegistry(): Registry {
  if (registry === undefined) {
    const file = createRequire(import.meta.url).resolve("@ts-control-plane/envoy-api/envoy-api.binpb");
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(file)));
  }
  return registry;
}
