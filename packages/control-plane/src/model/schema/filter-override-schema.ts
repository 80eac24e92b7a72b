import { httpFilterSchema } from "./http-filter-schema.ts";
import { type JsonSchema, SchemaPathError } from "./json-schema.ts";

/** A setting an override shares with the listener's filter entry: declared once, in http-filter-schema.ts. */
function shared(key: string): JsonSchema {
  const s = httpFilterSchema.properties?.[key];
  if (s === undefined) throw new SchemaPathError(["HttpFilter", key]);
  return s;
}

/** The JSON Schema of a FilterOverride entry; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const filterOverrideSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "description": "A per-route override of the listener's filter of this name: disabled: true, or type and settings (not compression).",
  "required": [],
  "properties": {
    type: shared("type"),
    allowOrigins: shared("allowOrigins"),
    allowMethods: shared("allowMethods"),
    allowHeaders: shared("allowHeaders"),
    exposeHeaders: shared("exposeHeaders"),
    maxAge: shared("maxAge"),
    allowCredentials: shared("allowCredentials"),
    tokens: shared("tokens"),
    tokensPerFill: shared("tokensPerFill"),
    fillInterval: shared("fillInterval"),
    action: shared("action"),
    sourceCidrs: shared("sourceCidrs"),
    headers: shared("headers"),
    abort: shared("abort"),
    delay: shared("delay"),
    algorithm: shared("algorithm"),
    minContentLength: shared("minContentLength"),
    typedConfig: shared("typedConfig"),
    disabled: {
      "const": true,
      "description": "Turn the listener's filter off for this route."
    },
    require: shared("require"),
    jwtClaims: shared("jwtClaims"),
  }
};
