import { type Kind, kinds } from "../kinds.ts";
import { accessLogSchema } from "./access-log-schema.ts";
import { envelopeSchema } from "./envelope-schema.ts";
import { filterOverrideSchema } from "./filter-override-schema.ts";
import { httpFilterSchema } from "./http-filter-schema.ts";
import type { JsonSchema } from "./json-schema.ts";
import { listenerSchema } from "./listener-schema.ts";
import { nodeGroupSchema } from "./node-group-schema.ts";
import { rawResourceSchema } from "./raw-resource-schema.ts";
import { routeSchema } from "./route-schema.ts";
import { secretSchema } from "./secret-schema.ts";
import { serviceSchema } from "./service-schema.ts";
import { tracingSchema } from "./tracing-schema.ts";

/** One spec schema per kind: Record<Kind, ...> makes a new kind without a schema a type error. */
export const specSchemas: Record<Kind, JsonSchema> = {
  Listener: listenerSchema,
  Route: routeSchema,
  Service: serviceSchema,
  Tracing: tracingSchema,
  AccessLog: accessLogSchema,
  NodeGroup: nodeGroupSchema,
  RawResource: rawResourceSchema,
  Secret: secretSchema,
};

/** "spec is a <kind>" for one kind, as JSON Schema's if/then on the kind field. */
function specOfKind(kind: Kind): JsonSchema {
  const rule: JsonSchema = { if: { properties: { kind: { const: kind } } } };
  // biome-ignore lint/suspicious/noThenProperty: "then" is JSON Schema's keyword, and this object is data written to a file, never awaited.
  rule.then = { properties: { spec: { $ref: `#/$defs/${kind}` } } };
  return rule;
}

/**
 * The whole editor schema: the envelope, one if/then and one $def per kind (in kinds.ts
 * order), and the shared HttpFilter/FilterOverride entries. Key order is fixed, so the
 * output is stable byte for byte.
 */
export const modelSchema: JsonSchema & { $defs: Record<string, JsonSchema> } = {
  ...envelopeSchema,
  allOf: kinds.map(specOfKind),
  $defs: { ...specSchemas, HttpFilter: httpFilterSchema, FilterOverride: filterOverrideSchema },
};

/** The committed file's exact text: two-space JSON and a final newline (npm run generate:schema writes it). */
export function renderModelSchema(): string {
  return `${JSON.stringify(modelSchema, null, 2)}\n`;
}
