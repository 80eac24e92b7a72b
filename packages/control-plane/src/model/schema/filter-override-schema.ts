import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a FilterOverride entry; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const filterOverrideSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "description": "A per-route override of the listener's filter of this name: disabled: true, or type and settings (not compression).",
  "required": [],
  "properties": {
    "type": {
      "enum": [
        "cors",
        "localRateLimit",
        "rbac",
        "fault",
        "compression",
        "jwt",
        "extAuthz",
        "raw"
      ]
    },
    "allowOrigins": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1
      },
      "description": "cors: exact origins, or \"*\"."
    },
    "allowMethods": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1
      }
    },
    "allowHeaders": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1
      }
    },
    "exposeHeaders": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1
      }
    },
    "maxAge": {
      "type": "string",
      "description": "cors: a duration such as 10m."
    },
    "allowCredentials": {
      "type": "boolean"
    },
    "tokens": {
      "type": "integer",
      "minimum": 1,
      "description": "localRateLimit: bucket size."
    },
    "tokensPerFill": {
      "type": "integer",
      "minimum": 1,
      "description": "localRateLimit: tokens added each fillInterval (default: tokens)."
    },
    "fillInterval": {
      "type": "string",
      "description": "localRateLimit: a duration of at least 50ms."
    },
    "action": {
      "enum": [
        "Allow",
        "Deny"
      ],
      "description": "rbac: Allow lets only the listed principals through; Deny refuses them (403)."
    },
    "sourceCidrs": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1
      },
      "description": "rbac: peer addresses or CIDR ranges."
    },
    "headers": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1
          },
          "exact": {
            "type": "string"
          },
          "prefix": {
            "type": "string"
          },
          "present": {
            "const": true
          }
        }
      },
      "description": "rbac: header principals."
    },
    "abort": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "status"
      ],
      "properties": {
        "status": {
          "type": "integer",
          "minimum": 200,
          "maximum": 599
        },
        "percent": {
          "type": "integer",
          "minimum": 0,
          "maximum": 100,
          "default": 100
        }
      },
      "description": "fault: answer with this status."
    },
    "delay": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "duration"
      ],
      "properties": {
        "duration": {
          "type": "string"
        },
        "percent": {
          "type": "integer",
          "minimum": 0,
          "maximum": 100,
          "default": 100
        }
      },
      "description": "fault: hold the request this long."
    },
    "algorithm": {
      "enum": [
        "gzip",
        "brotli"
      ],
      "default": "gzip",
      "description": "compression."
    },
    "minContentLength": {
      "type": "integer",
      "minimum": 0,
      "default": 30,
      "description": "compression: smaller responses are sent as they are."
    },
    "typedConfig": {
      "type": "object",
      "required": [
        "@type"
      ],
      "properties": {
        "@type": {
          "type": "string"
        }
      },
      "description": "raw: Envoy's own typed_config, checked against the Envoy API."
    },
    "disabled": {
      "const": true,
      "description": "Turn the listener's filter off for this route."
    },
    "require": {
      "type": "string",
      "minLength": 1,
      "description": "jwt: the provider whose valid token every request (or, in a route override, this route's requests) must carry."
    },
    "jwtClaims": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "provider",
          "claim"
        ],
        "properties": {
          "provider": {
            "type": "string",
            "minLength": 1,
            "description": "A provider of a jwt filter listed before this rbac filter."
          },
          "claim": {
            "type": "string",
            "minLength": 1
          },
          "exact": {
            "type": "string"
          },
          "prefix": {
            "type": "string"
          }
        }
      },
      "description": "rbac: principals by verified JWT claim."
    }
  }
};
