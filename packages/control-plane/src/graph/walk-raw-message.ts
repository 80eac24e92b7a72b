import type { Message } from "@bufbuild/protobuf";
import { type Any, anyUnpack } from "@bufbuild/protobuf/wkt";
import { envoyRegistry } from "@ts-control-plane/xds";

/** One message met while walking a raw resource: its protobuf type, its fields, and where it is written. */
export interface RawMessageNode {
  readonly typeName: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** Field path in Envoy's snake_case names, from the resource (`""` for the resource itself), e.g. `filter_chains[0].filters[0].typed_config.route_config`. */
  readonly path: string;
}

/**
 * Visits every message of a decoded raw resource, depth first, including those packed in
 * `Any` fields (typed_config of filters and transport sockets, where routes, regexes and
 * certificates live): the one walk every raw check uses, so they all see the same fields
 * under the same paths. `visit` returns true to skip what is inside that message.
 */
export function walkRawMessage(message: Message, visit: (node: RawMessageNode) => boolean | undefined): void {
  walk(message, "", visit);
}

function walk(value: unknown, path: string, visit: (node: RawMessageNode) => boolean | undefined): void {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, visit);
    return;
  }
  const record = value as Record<string, unknown>;
  const typeName = record["$typeName"];
  if (typeName === "google.protobuf.Any") {
    const inner = anyUnpack(value as Any, envoyRegistry());
    // A type the registry does not know could not have been parsed from JSON in the first place.
    if (inner !== undefined) walk(inner, path, visit);
    return;
  }
  if (typeof typeName === "string" && visit({ typeName, fields: record, path }) === true) return;
  for (const [key, v] of Object.entries(record)) {
    if (key === "$typeName") continue;
    // A oneof is { case, value }: the case is the field name the operator wrote.
    if (v !== null && typeof v === "object" && "case" in v && "value" in v && !("$typeName" in v)) {
      const c = (v as { case: unknown }).case;
      if (typeof c === "string") walk((v as { value: unknown }).value, joinFieldPath(path, c), visit);
      continue;
    }
    walk(v, joinFieldPath(path, key), visit);
  }
}

/** `path.field`, with the protobuf-es camelCase field name turned back into Envoy's snake_case. */
export function joinFieldPath(path: string, key: string): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return path === "" ? snake : `${path}.${snake}`;
}

/** The `{ case, value }` of a protobuf-es oneof field, or undefined when unset. */
export function oneofOf(fields: Readonly<Record<string, unknown>>, name: string): { readonly case: string; readonly value: unknown } | undefined {
  const v = fields[name] as { case?: unknown; value?: unknown } | undefined;
  return typeof v?.case === "string" ? { case: v.case, value: v.value } : undefined;
}
