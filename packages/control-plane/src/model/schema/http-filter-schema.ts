import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a HttpFilter entry; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const httpFilterSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "description": "One HTTP filter; filters run in the order listed, the router is added last. Fields besides name and type depend on type.",
  "required": [
    "type"
  ],
  "properties": {
    "name": {
      "type": "string",
      "minLength": 1,
      "description": "Unique on the listener; routes override the filter by this name (not envoy.filters.http.router)."
    },
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
    "require": {
      "type": "string",
      "minLength": 1,
      "description": "jwt: the provider whose valid token every request (or, in a route override, this route's requests) must carry."
    },
    "providers": {
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
          "issuer": {
            "type": "string"
          },
          "audiences": {
            "type": "array",
            "items": {
              "type": "string",
              "minLength": 1
            }
          },
          "jwks": {
            "type": "string",
            "description": "The JSON Web Key Set, as JSON text (or remoteJwks)."
          },
          "remoteJwks": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "service",
              "path"
            ],
            "properties": {
              "service": {
                "type": "string",
                "minLength": 1,
                "description": "The Service that serves the JWKS."
              },
              "path": {
                "type": "string",
                "description": "The JWKS document's path, e.g. /.well-known/jwks.json."
              },
              "cacheDuration": {
                "type": "string",
                "description": "How long Envoy keeps the keys (Envoy's default: 10m)."
              }
            },
            "description": "Keys Envoy fetches (instead of jwks)."
          }
        }
      },
      "description": "jwt: token issuers and their keys."
    },
    "service": {
      "type": "string",
      "minLength": 1,
      "description": "extAuthz: the Service that answers the checks."
    },
    "protocol": {
      "enum": [
        "HTTP",
        "GRPC"
      ],
      "default": "HTTP",
      "description": "extAuthz: HTTP (2xx allows) or GRPC (Authorization/Check; the Service needs protocol: HTTP2)."
    },
    "timeout": {
      "type": "string",
      "default": "200ms",
      "description": "extAuthz: how long a check may take."
    },
    "pathPrefix": {
      "type": "string",
      "description": "extAuthz, HTTP: prefixed to the path of each check."
    },
    "failOpen": {
      "type": "boolean",
      "default": false,
      "description": "extAuthz: let requests through when the service cannot be reached."
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
