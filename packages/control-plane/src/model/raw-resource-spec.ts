import { fromJson, type JsonValue, type Message } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack } from "@bufbuild/protobuf/wkt";
import { resourceType, resourceTypes, envoyRegistry } from "@ts-control-plane/xds";
import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { rawResourceSchema } from "./schema/raw-resource-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(rawResourceSchema);

/** An Envoy resource written in Envoy's own YAML/JSON (the escape hatch), parsed into its typed message. */
export interface RawResourceSpec {
  typeUrl: string;
  name: string;
  message: Message;
}

export function validateRawResource(spec: Record<string, unknown>, r: SpecReader): RawResourceSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const rp = [...path, "resource"];
  const resource = rec["resource"];
  if (resource === undefined) {
    r.error(rp, "schema.required", "resource is required", "write the Envoy resource under spec.resource, with its @type, e.g. \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster");
    return undefined;
  }
  const body = r.mapping(resource, rp, Object.keys(typeof resource === "object" && resource !== null ? resource : {}));
  if (body === undefined) return undefined;
  const typeUrl = body["@type"];
  const known = resourceTypes.map((t) => t.typeUrl);
  if (typeof typeUrl !== "string" || resourceType(typeUrl) === undefined) {
    r.error(
      [...rp, "@type"],
      typeUrl === undefined ? "schema.required" : "raw.unknown_type",
      typeUrl === undefined ? "the resource has no @type" : `@type '${String(typeUrl)}' is not an xDS resource type`,
      `set @type to one of: ${known.join(", ")}`,
    );
    return undefined;
  }
  let message: Message | undefined;
  try {
    const registry = envoyRegistry();
    const any = fromJson(AnySchema, body as JsonValue, { registry });
    message = anyUnpack(any, registry);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    r.error([...rp, ...culprit(text, body)], "raw.parse", `the ${typeUrl.slice(typeUrl.lastIndexOf(".") + 1)} does not parse: ${text}`, "fix the field named in the message; field names and values follow Envoy's v3 API reference (snake_case or camelCase)");
    return undefined;
  }
  if (message === undefined) {
    r.error([...rp, "@type"], "raw.unknown_type", `@type '${typeUrl}' is not in the generated Envoy API`, `set @type to one of: ${known.join(", ")}`);
    return undefined;
  }
  const name = resourceType(typeUrl)?.nameOf(message) ?? "";
  if (name === "") {
    const field = typeUrl.endsWith("ClusterLoadAssignment") ? "cluster_name" : "name";
    r.error([...rp, field], "schema.required", `the resource has no ${field}`, `set ${field}; every xDS resource needs a name`);
    return undefined;
  }
  return { typeUrl, name, message };
}

/**
 * The top-level field a protobuf-es JSON error is about, when it names one the operator
 * wrote ('key "typ" is unknown', 'cannot decode field envoy...Cluster.connect_timeout'),
 * so the diagnostic points at that line; nothing when the culprit is deeper or unnamed.
 */
function culprit(message: string, body: Record<string, unknown>): string[] {
  const unknown = /key "([^"]+)" is unknown/.exec(message)?.[1];
  const field = /cannot decode field [\w.]+\.(\w+) from JSON/.exec(message)?.[1];
  for (const name of [unknown, field]) {
    if (name === undefined) continue;
    const camel = name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    const written = [name, camel].find((k) => k in body);
    if (written !== undefined) return [written];
  }
  return [];
}
