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

/**
 * The whole editor schema: the envelope plus one $def per kind (and the shared
 * HttpFilter/FilterOverride entries). The order of $defs is the order written to
 * schema/v1alpha1.schema.json, so the output is stable byte for byte.
 */
export const modelSchema: JsonSchema & { $defs: Record<string, JsonSchema> } = {
  ...envelopeSchema,
  $defs: {
    Listener: listenerSchema,
    Route: routeSchema,
    Service: serviceSchema,
    Tracing: tracingSchema,
    AccessLog: accessLogSchema,
    NodeGroup: nodeGroupSchema,
    RawResource: rawResourceSchema,
    Secret: secretSchema,
    HttpFilter: httpFilterSchema,
    FilterOverride: filterOverrideSchema,
  },
};

/** The committed file's exact text: two-space JSON and a final newline (npm run generate:schema writes it). */
export function renderModelSchema(): string {
  return `${JSON.stringify(modelSchema, null, 2)}\n`;
}
