import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { SchemaPathError, schemaFields } from "./json-schema.ts";
import { listenerSchema } from "./listener-schema.ts";
import { renderModelSchema } from "./model-schema.ts";

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
