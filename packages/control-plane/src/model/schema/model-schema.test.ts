import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { headerModifierFields } from "../header-modifier-spec.ts";
import { httpFilterTypeFields, overridableFilterTypes } from "../http-filter-spec.ts";
import { API_VERSION, kinds } from "../kinds.ts";
import { certificateAndKeyFields } from "../secret-spec.ts";
import { validateObject } from "../validate-object.ts";
import { filterOverrideSchema } from "./filter-override-schema.ts";
import { httpFilterSchema } from "./http-filter-schema.ts";
import { SchemaPathError, schemaFields } from "./json-schema.ts";
import { listenerSchema } from "./listener-schema.ts";
import { modelSchema, renderModelSchema, specSchemas } from "./model-schema.ts";
import { routeSchema } from "./route-schema.ts";
import { secretSchema } from "./secret-schema.ts";

const committed = join(import.meta.dirname, "..", "..", "..", "schema", "v1alpha1.schema.json");

test("the committed v1alpha1.schema.json is exactly what the definitions in src/model/schema generate", () => {
  assert.ok(readFileSync(committed, "utf8") === renderModelSchema(), "schema/v1alpha1.schema.json is out of date: run npm run generate:schema and commit the result");
});

test("rendering is deterministic", () => {
  assert.equal(renderModelSchema(), renderModelSchema());
});

test("schemaFields walks properties and array items, and a path the schema lacks is a typed error", () => {
  assert.deepEqual(schemaFields(listenerSchema, "requestId"), ["generate", "preserveExternal"]);
  assert.throws(() => schemaFields(listenerSchema, "nope"), (e: unknown) => e instanceof SchemaPathError && e.code === "model.schema_path");
});

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

test("the HttpFilter entry names exactly the fields the filter types take (http-filter-spec.ts), plus name and type", () => {
  assert.deepEqual(sorted(schemaFields(httpFilterSchema)), sorted(["name", "type", ...Object.values(httpFilterTypeFields).flat()]));
});

test("a FilterOverride entry knows every field of the types a route may override, and nothing the reader refuses as unknown", () => {
  const overridable = overridableFilterTypes.flatMap((t) => httpFilterTypeFields[t]);
  const known = schemaFields(filterOverrideSchema);
  for (const f of ["type", "disabled", "require", ...overridable]) assert.ok(known.includes(f), `FilterOverride lacks '${f}'`);
  const readable = new Set(["type", "disabled", "require", ...Object.values(httpFilterTypeFields).flat()]);
  for (const f of known) assert.ok(readable.has(f), `FilterOverride has '${f}', which no filter type reads`);
});

test("the shared field lists the readers use as subsets are fields of the schema where they are read", () => {
  for (const at of [schemaFields(listenerSchema), schemaFields(routeSchema), schemaFields(routeSchema, "routes", "[]")]) {
    for (const f of headerModifierFields) assert.ok(at.includes(f), f);
  }
  assert.deepEqual(sorted(certificateAndKeyFields), sorted(schemaFields(secretSchema, "tlsCertificate")));
  for (const f of certificateAndKeyFields) assert.ok(schemaFields(listenerSchema, "tls").includes(f), f);
});

test("the envelope's kinds and $defs follow kinds.ts", () => {
  assert.deepEqual(Object.keys(specSchemas), [...kinds]);
  assert.deepEqual(modelSchema.properties?.["kind"]?.enum, [...kinds]);
  assert.equal(modelSchema.allOf?.length, kinds.length);
});

test("for every kind, validation accepts each key the schema declares for its spec and refuses one it does not", () => {
  for (const kind of kinds) {
    const unknownAt = (spec: Record<string, unknown>): string[] =>
      validateObject({ apiVersion: API_VERSION, kind, metadata: { name: "probe" }, spec })
        .diagnostics.filter((d) => d.code === "schema.unknown_field")
        .map((d) => d.path ?? "");
    for (const field of schemaFields(specSchemas[kind])) assert.deepEqual(unknownAt({ [field]: "x" }), [], `${kind} spec.${field}`);
    assert.deepEqual(unknownAt({ notAField: "x" }), ["spec.notAField"], kind);
  }
});
