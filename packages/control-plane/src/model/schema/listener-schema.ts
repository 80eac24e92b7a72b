import { headerModifierSchema } from "./header-modifier-schema.ts";
import { certificateAndKeyProperties } from "./certificate-and-key-schema.ts";
import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a Listener object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const listenerSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "protocol": {
      "enum": [
        "HTTP",
        "HTTPS",
        "TCP",
        "UDP"
      ]
    },
    "address": {
      "type": "string",
      "default": "0.0.0.0",
      "description": "IP address to listen on."
    },
    "port": {
      "type": "integer",
      "minimum": 1,
      "maximum": 65535
    },
    "tls": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        ...certificateAndKeyProperties,
        "secret": {
          "type": "string",
          "description": "A Secret with tlsCertificate, sent over SDS (instead of certificate+key): rotating it leaves the listener untouched."
        },
        "clientValidationSecret": {
          "type": "string",
          "description": "A Secret with validationContext: client certificates must verify against it (mTLS)."
        },
        "certificates": {
          "type": "array",
          "minItems": 1,
          "description": "Several certificates picked by the client's SNI (instead of the short form); the entry without serverNames is the default.",
          "items": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "serverNames": {
                "type": "array",
                "items": {
                  "type": "string",
                  "minLength": 1
                },
                "description": "SNI names served with this certificate: exact, or *.example.com."
              },
              "secret": {
                "type": "string",
                "description": "A Secret with tlsCertificate, sent over SDS."
              },
              ...certificateAndKeyProperties
            }
          }
        },
        "clientCertificate": {
          "enum": [
            "required",
            "optional"
          ],
          "default": "required",
          "description": "With clientValidationSecret: refuse clients without a certificate (required) or let them in (optional); a certificate presented is always verified."
        },
        "minVersion": {
          "enum": [
            "TLSv1_2",
            "TLSv1_3"
          ],
          "description": "Lowest TLS version accepted (Envoy's default otherwise: TLS 1.2)."
        },
        "alpn": {
          "type": "array",
          "minItems": 1,
          "items": {
            "type": "string",
            "minLength": 1
          },
          "default": [
            "h2",
            "http/1.1"
          ],
          "description": "ALPN protocols offered, most preferred first."
        }
      },
      "description": "HTTPS only: TLS termination. certificate+key inline, or certificateFile+keyFile, or secret (a Secret object over SDS), or certificates (several, by SNI)."
    },
    "service": {
      "type": "string",
      "minLength": 1,
      "description": "TCP and UDP only: the Service receiving the traffic."
    },
    "tracing": {
      "type": "string",
      "minLength": 1,
      "description": "HTTP(S) only."
    },
    "accessLogs": {
      "type": "array",
      "items": {
        "type": "string",
        "minLength": 1,
        "description": "The metadata.name of a AccessLog."
      }
    },
    "requestId": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "generate": {
          "type": "boolean",
          "default": true
        },
        "preserveExternal": {
          "type": "boolean",
          "default": false
        }
      },
      "description": "HTTP(S) only: x-request-id generation."
    },
    "upgrades": {
      "type": "array",
      "items": {
        "type": "string",
        "pattern": "^[a-z0-9!#$%&'*+.^_`|~-]+$"
      },
      "description": "HTTP(S) only: upgrade types let through, e.g. websocket."
    },
    "requestHeaders": headerModifierSchema("Request headers to add, set or remove (HTTP(S) only: every request of the listener)."),
    "responseHeaders": headerModifierSchema("Response headers to add, set or remove (HTTP(S) only: every request of the listener)."),
    "httpFilters": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/HttpFilter"
      },
      "description": "HTTP(S) only: filters before the router, in order."
    }
  },
  "required": [
    "protocol",
    "port"
  ]
};
