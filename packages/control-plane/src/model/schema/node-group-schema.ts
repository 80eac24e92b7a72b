import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a NodeGroup object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const nodeGroupSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "selector": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "nodeIds": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          },
          "description": "Any of these node ids."
        },
        "clusters": {
          "type": "array",
          "items": {
            "type": "string",
            "minLength": 1
          },
          "description": "Any of these node clusters."
        },
        "metadata": {
          "type": "object",
          "additionalProperties": {
            "type": "string"
          },
          "description": "Every key must equal."
        }
      }
    },
    "listeners": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1,
        "description": "The metadata.name of a Listener."
      },
      "description": "Default: every listener (and every object)."
    },
    "rawResources": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1,
        "description": "The metadata.name of a RawResource."
      },
      "description": "Default: every raw resource."
    },
    "identities": {
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "string",
        "minLength": 1,
        "description": "A URI SAN (scheme://...), dns:NAME or cn:NAME of a client certificate."
      },
      "description": "Client certificate identities that may connect as this group when the control plane serves xDS over mTLS."
    }
  },
  "required": [
    "selector"
  ]
};
