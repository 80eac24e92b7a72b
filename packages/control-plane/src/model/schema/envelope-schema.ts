import { API_VERSION, kinds } from "../kinds.ts";
import type { JsonSchema } from "./json-schema.ts";

/**
 * The JSON Schema of one object's envelope (apiVersion, kind, metadata, spec). The version
 * and the kinds come from kinds.ts; model-schema.ts adds one $def and one if/then per kind.
 */
export const envelopeSchema: JsonSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://tcp.dev/schema/v1alpha1.json",
  "title": "ts-control-plane declarative model, tcp.dev/v1alpha1",
  "description": "One object per YAML document. Documents the rules the control plane enforces; the control plane's own validation (packages/control-plane/src/model) is authoritative and adds cross-object checks (references, port and domain conflicts, Envoy's PGV rules).",
  "type": "object",
  "required": [
    "apiVersion",
    "kind",
    "metadata"
  ],
  "properties": {
    "apiVersion": {
      "const": API_VERSION
    },
    "kind": {
      "enum": [...kinds]
    },
    "metadata": {
      "type": "object",
      "required": [
        "name"
      ],
      "properties": {
        "name": {
          "type": "string",
          "pattern": "^[A-Za-z0-9]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?$"
        },
        "labels": {
          "type": "object",
          "additionalProperties": {
            "type": "string"
          }
        }
      },
      "additionalProperties": false
    },
    "spec": {
      "type": "object"
    }
  },
  "additionalProperties": false
};
