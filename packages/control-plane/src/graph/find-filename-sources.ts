import type { Message } from "@bufbuild/protobuf";
import { type Any, anyUnpack } from "@bufbuild/protobuf/wkt";
import { envoyRegistry } from "@ts-control-plane/xds";

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
  walk(message, "", out);
  return out;
}

function walk(value: unknown, path: string, out: FilenameSource[]): void {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, out);
    return;
  }
  const record = value as Record<string, unknown>;
  const typeName = record["$typeName"];
  if (typeName === "google.protobuf.Any") {
    const inner = anyUnpack(value as Any, envoyRegistry());
    // A type the registry does not know could not have been parsed from JSON in the first place.
    if (inner !== undefined) walk(inner, path, out);
    return;
  }
  if (typeName === dataSource) {
    const specifier = record["specifier"] as { case?: unknown; value?: unknown } | undefined;
    if (specifier?.case === "filename" && typeof specifier.value === "string") out.push({ path, filename: specifier.value });
    return;
  }
  for (const [key, v] of Object.entries(record)) {
    if (key === "$typeName") continue;
    // A oneof is { case, value }: the case is the field name the operator wrote.
    if (v !== null && typeof v === "object" && "case" in v && "value" in v && !("$typeName" in v)) {
      const c = (v as { case: unknown }).case;
      if (typeof c === "string") walk((v as { value: unknown }).value, join(path, c), out);
      continue;
    }
    walk(v, join(path, key), out);
  }
}

function join(path: string, key: string): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return path === "" ? snake : `${path}.${snake}`;
}
