import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

let registry: Registry | undefined;

/**
 * Every generated Envoy type (and its imports), for unpacking `google.protobuf.Any`.
 * Built once, on first use, from the FileDescriptorSet the envoy-api package
 * generates next to its modules (packages/envoy-api/gen/envoy-api.binpb). The
 * file is found through the package's own module resolution, so it works from
 * any working directory.
 */
export function envoyRegistry(): Registry {
  if (registry === undefined) {
    // The package's export map appends ".js", so resolve a known module and step to its folder.
    const anchor = import.meta.resolve("@ts-control-plane/envoy-api/validate/validate_pb");
    const file = new URL("../envoy-api.binpb", anchor);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new XdsError(XdsErrorCode.InvalidState, `cannot read the Envoy descriptor set ${file.pathname}: run \`npm run generate\``, { cause: e });
    }
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  }
  return registry;
}
