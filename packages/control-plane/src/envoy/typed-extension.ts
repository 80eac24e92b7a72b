import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";

/**
 * `{ name, typed_config }`, the shape shared by filters, listener filters, access logs,
 * transport sockets and tracers. Envoy picks the extension by the Any's type URL; the
 * name is the canonical extension name so config dumps read the same as Envoy's docs.
 */
export function typedExtension<Desc extends DescMessage>(
  name: string,
  schema: Desc,
  message: MessageShape<Desc>,
): { name: string; configType: { case: "typedConfig"; value: Any } } {
  return { name, configType: { case: "typedConfig", value: anyPack(schema, message) } };
}
