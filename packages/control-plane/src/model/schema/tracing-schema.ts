import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a Tracing object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const tracingSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "zipkin": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "service": {
          "type": "string",
          "minLength": 1,
          "description": "The collector's Service."
        },
        "endpoint": {
          "type": "string",
          "default": "/api/v2/spans"
        },
        "version": {
          "enum": [
            "HTTP_JSON",
            "HTTP_PROTO"
          ],
          "default": "HTTP_JSON"
        },
        "sharedSpanContext": {
          "type": "boolean",
          "default": true
        }
      },
      "required": [
        "service"
      ]
    },
    "opentelemetry": {
      "type": "object",
      "additionalProperties": false,
      "description": "OTLP over gRPC (envoy.tracers.opentelemetry).",
      "properties": {
        "service": {
          "type": "string",
          "minLength": 1,
          "description": "The collector's Service; it must be protocol: HTTP2."
        },
        "serviceName": {
          "type": "string",
          "minLength": 1,
          "description": "service.name of the spans' resource (Envoy's default: unknown_service:envoy)."
        }
      },
      "required": [
        "service"
      ]
    },
    "samplingPercent": {
      "type": "number",
      "minimum": 0,
      "maximum": 100,
      "default": 100
    }
  },
  "oneOf": [
    {
      "required": [
        "zipkin"
      ]
    },
    {
      "required": [
        "opentelemetry"
      ]
    }
  ]
};
