import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a AccessLog object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const accessLogSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "type": {
      "enum": [
        "file",
        "opentelemetry"
      ],
      "default": "file",
      "description": "file: append to path; opentelemetry: OTLP log records over gRPC to service."
    },
    "path": {
      "type": "string",
      "minLength": 1
    },
    "format": {
      "type": "string",
      "description": "Text format with Envoy command operators."
    },
    "json": {
      "type": "object",
      "additionalProperties": {
        "type": "string"
      }
    },
    "service": {
      "type": "string",
      "minLength": 1,
      "description": "opentelemetry: the collector's Service; it must be protocol: HTTP2."
    },
    "logName": {
      "type": "string",
      "minLength": 1,
      "description": "opentelemetry: the log_name resource attribute; the AccessLog's name when absent."
    },
    "body": {
      "type": "string",
      "description": "opentelemetry: the record's body, a text with Envoy command operators."
    },
    "attributes": {
      "type": "object",
      "additionalProperties": {
        "type": "string"
      },
      "description": "opentelemetry: the record's attributes, name -> text with Envoy command operators."
    }
  },
  "oneOf": [
    {
      "properties": {
        "type": {
          "const": "file"
        }
      },
      "required": [
        "path"
      ]
    },
    {
      "properties": {
        "type": {
          "const": "opentelemetry"
        }
      },
      "required": [
        "type",
        "service"
      ]
    }
  ]
};
