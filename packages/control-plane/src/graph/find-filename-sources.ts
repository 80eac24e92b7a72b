import type { Message } from "@bufbuild/protobuf";
import { oneofOf, walkRawMessage } from "./walk-raw-message.ts";

/** A DataSource in a raw resource that names a file: where it is written, and the file. */
export interface FilenameSource {
  /** Field path in Envoy's snake_case names, from the resource, e.g. `transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain`. */
  readonly path: string;
  readonly filename: string;
}

const dataSource = "envoy.config.core.v3.DataSource";

/**
 * Every `envoy.config.core.v3.DataSource` set to `filename` in a message, at any depth,
 * including inside packed `Any` fields (typed_config of filters and transport sockets,
 * where TLS certificates live): what makes Envoy read a file on its own host.
 */
export function findFilenameSources(message: Message): FilenameSource[] {
  const out: FilenameSource[] = [];
  walkRawMessage(message, ({ typeName, fields, path }) => {
    if (typeName !== dataSource) return undefined;
    const specifier = oneofOf(fields, "specifier");
    if (specifier?.case === "filename" && typeof specifier.value === "string") out.push({ path, filename: specifier.value });
    return true;
  });
  return out;
}
