import { headerModifierSchema } from "./header-modifier-schema.ts";
import type { JsonSchema } from "./json-schema.ts";
import { retryConditions } from "../retry-conditions.ts";

/** The JSON Schema of a Route object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const routeSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "listeners": {
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "string",
        "minLength": 1,
        "description": "The metadata.name of a Listener."
      },
      "description": "HTTP or HTTPS listeners this route table attaches to."
    },
    "domains": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1
      },
      "description": "Virtual host domains; default [\"*\"]."
    },
    "routes": {
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "match": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "prefix": {
                "type": "string",
                "pattern": "^/"
              },
              "path": {
                "type": "string",
                "pattern": "^/",
                "description": "Exact path."
              },
              "regex": {
                "type": "string",
                "description": "RE2, whole path."
              },
              "headers": {
                "type": "array",
                "items": {
                  "type": "object",
                  "additionalProperties": false,
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
                    "regex": {
                      "type": "string",
                      "description": "RE2."
                    },
                    "present": {
                      "const": true
                    },
                    "invert": {
                      "type": "boolean"
                    }
                  },
                  "required": [
                    "name"
                  ],
                  "oneOf": [
                    {
                      "required": [
                        "exact"
                      ]
                    },
                    {
                      "required": [
                        "prefix"
                      ]
                    },
                    {
                      "required": [
                        "regex"
                      ]
                    },
                    {
                      "required": [
                        "present"
                      ]
                    }
                  ]
                }
              }
            },
            "oneOf": [
              {
                "required": [
                  "prefix"
                ]
              },
              {
                "required": [
                  "path"
                ]
              },
              {
                "required": [
                  "regex"
                ]
              }
            ]
          },
          "backends": {
            "type": "array",
            "minItems": 1,
            "items": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "service": {
                  "type": "string",
                  "minLength": 1,
                  "description": "The metadata.name of a Service."
                },
                "weight": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 1000000,
                  "description": "Required when there are several backends."
                }
              },
              "required": [
                "service"
              ]
            }
          },
          "redirect": {
            "type": "object",
            "additionalProperties": false,
            "description": "Answer with a redirect instead of proxying.",
            "properties": {
              "scheme": {
                "enum": [
                  "http",
                  "https"
                ]
              },
              "host": {
                "type": "string",
                "minLength": 1
              },
              "port": {
                "type": "integer",
                "minimum": 1,
                "maximum": 65535
              },
              "path": {
                "type": "string",
                "pattern": "^/",
                "description": "Replaces the whole path."
              },
              "prefix": {
                "type": "string",
                "pattern": "^/",
                "description": "Replaces the matched prefix."
              },
              "responseCode": {
                "enum": [
                  301,
                  302,
                  303,
                  307,
                  308
                ],
                "default": 301
              },
              "stripQuery": {
                "type": "boolean",
                "default": false
              }
            }
          },
          "directResponse": {
            "type": "object",
            "additionalProperties": false,
            "description": "Answer directly, without an upstream.",
            "properties": {
              "status": {
                "type": "integer",
                "minimum": 200,
                "maximum": 599
              },
              "body": {
                "type": "string",
                "maxLength": 4096
              }
            },
            "required": [
              "status"
            ]
          },
          "hostRewrite": {
            "type": "string"
          },
          "prefixRewrite": {
            "type": "string"
          },
          "regexRewrite": {
            "type": "object",
            "additionalProperties": false,
            "description": "RE2 path rewrite; \\1 in substitution is a capture group.",
            "properties": {
              "pattern": {
                "type": "string",
                "minLength": 1
              },
              "substitution": {
                "type": "string"
              }
            },
            "required": [
              "pattern",
              "substitution"
            ]
          },
          "mirror": {
            "type": "array",
            "description": "Shadow copies of the requests (answers ignored).",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "service": {
                  "type": "string",
                  "minLength": 1,
                  "description": "The metadata.name of a Service."
                },
                "percent": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 100,
                  "default": 100
                }
              },
              "required": [
                "service"
              ]
            }
          },
          "upgrades": {
            "type": "object",
            "description": "Upgrade types turned on (true) or off (false) for this rule.",
            "propertyNames": {
              "pattern": "^[a-z0-9!#$%&'*+.^_`|~-]+$"
            },
            "additionalProperties": {
              "type": "boolean"
            }
          },
          "timeout": {
            "type": "string",
            "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
            "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\"."
          },
          "retries": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "attempts": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "default": 1
              },
              "retryOn": {
                "oneOf": [
                  {
                    "type": "string",
                    "description": "Comma-separated conditions."
                  },
                  {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                      "enum": [...retryConditions]
                    }
                  }
                ],
                "default": "5xx,connect-failure,reset"
              },
              "perTryTimeout": {
                "type": "string",
                "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
                "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\"."
              },
              "retriableStatusCodes": {
                "type": "array",
                "minItems": 1,
                "items": {
                  "type": "integer",
                  "minimum": 100,
                  "maximum": 599
                },
                "description": "Upstream status codes that are retried too (adds retriable-status-codes to retryOn)."
              },
              "backOff": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "baseInterval": {
                    "type": "string",
                    "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
                    "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\"."
                  },
                  "maxInterval": {
                    "type": "string",
                    "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
                    "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\"."
                  }
                },
                "required": [
                  "baseInterval"
                ]
              }
            }
          },
          "decorator": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "operation": {
                "type": "string",
                "minLength": 1
              }
            },
            "required": [
              "operation"
            ],
            "description": "Tracing: the span's operation name."
          },
          "hashOn": {
            "type": "object",
            "additionalProperties": false,
            "description": "What RingHash and Maglev services hash on; exactly one field.",
            "properties": {
              "header": {
                "type": "string",
                "minLength": 1
              },
              "cookie": {
                "type": "string",
                "minLength": 1
              },
              "queryParameter": {
                "type": "string",
                "minLength": 1
              },
              "sourceIp": {
                "const": true
              }
            },
            "oneOf": [
              {
                "required": [
                  "header"
                ]
              },
              {
                "required": [
                  "cookie"
                ]
              },
              {
                "required": [
                  "queryParameter"
                ]
              },
              {
                "required": [
                  "sourceIp"
                ]
              }
            ]
          },
          "requestHeaders": headerModifierSchema("Request headers to add, set or remove (this rule only)."),
          "responseHeaders": headerModifierSchema("Response headers to add, set or remove (this rule only)."),
          "filters": {
            "type": "object",
            "additionalProperties": {
              "$ref": "#/$defs/FilterOverride"
            },
            "description": "Per-route settings of the listener's HTTP filters, by filter name."
          }
        },
        "required": [
          "match"
        ],
        "oneOf": [
          {
            "required": [
              "backends"
            ]
          },
          {
            "required": [
              "redirect"
            ]
          },
          {
            "required": [
              "directResponse"
            ]
          }
        ]
      },
      "description": "Matched in order; the first match wins."
    },
    "requestHeaders": headerModifierSchema("Request headers to add, set or remove (every rule of this route table)."),
    "responseHeaders": headerModifierSchema("Response headers to add, set or remove (every rule of this route table).")
  },
  "required": [
    "listeners",
    "routes"
  ]
};
