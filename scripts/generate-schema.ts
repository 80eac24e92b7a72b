// Writes packages/control-plane/schema/v1alpha1.schema.json from the definitions in
// packages/control-plane/src/model/schema/ (the readers take their fields from the same
// definitions, so the editor schema cannot drift from validation). model-schema.test.ts
// fails when the committed file is stale.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderModelSchema } from "../packages/control-plane/src/model/schema/model-schema.ts";

const target = join(import.meta.dirname, "..", "packages", "control-plane", "schema", "v1alpha1.schema.json");
writeFileSync(target, renderModelSchema());
console.log(`wrote ${target}`);
