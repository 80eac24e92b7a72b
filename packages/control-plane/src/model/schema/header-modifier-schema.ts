import type { JsonSchema } from "./json-schema.ts";

/** add, set and remove of a requestHeaders/responseHeaders mapping (header-modifier-spec.ts reads them); host is Envoy's to set. */
export const headerModifierProperties: Record<string, JsonSchema> = {
  "add": {
    "type": "object",
    "propertyNames": {
      "type": "string",
      "pattern": "^[a-z0-9!#$%&'*+.^_`|~-]+$",
      "not": {
        "enum": [
          "host"
        ]
      }
    },
    "additionalProperties": {
      "type": "string"
    },
    "description": "Appended: an existing header keeps its value and gets another."
  },
  "set": {
    "type": "object",
    "propertyNames": {
      "type": "string",
      "pattern": "^[a-z0-9!#$%&'*+.^_`|~-]+$",
      "not": {
        "enum": [
          "host"
        ]
      }
    },
    "additionalProperties": {
      "type": "string"
    },
    "description": "Overwritten."
  },
  "remove": {
    "type": "array",
    "items": {
      "type": "string",
      "pattern": "^[a-z0-9!#$%&'*+.^_`|~-]+$",
      "not": {
        "enum": [
          "host"
        ]
      }
    }
  }
};

/** A requestHeaders or responseHeaders mapping; the same three fields wherever it appears, described for its place. */
export function headerModifierSchema(description: string): JsonSchema {
  return { type: "object", additionalProperties: false, description, properties: headerModifierProperties };
}
