import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of one object's envelope (apiVersion, kind, metadata, spec); each kind's spec is a $def. */
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
      "const": "tcp.dev/v1alpha1"
    },
    "kind": {
      "enum": [
        "Listener",
        "Route",
        "Service",
        "Tracing",
        "AccessLog",
        "NodeGroup",
        "RawResource",
        "Secret"
      ]
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
  "additionalProperties": false,
  "allOf": [
    {
      "if": {
        "properties": {
          "kind": {
            "const": "Listener"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/Listener"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "Route"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/Route"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "Service"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/Service"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "Tracing"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/Tracing"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "AccessLog"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/AccessLog"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "NodeGroup"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/NodeGroup"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "RawResource"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/RawResource"
          }
        }
      }
    },
    {
      "if": {
        "properties": {
          "kind": {
            "const": "Secret"
          }
        }
      },
      "then": {
        "properties": {
          "spec": {
            "$ref": "#/$defs/Secret"
          }
        }
      }
    }
  ]
};
