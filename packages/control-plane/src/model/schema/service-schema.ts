import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a Service object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const serviceSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "discovery": {
      "enum": [
        "Static",
        "DNS"
      ],
      "default": "Static",
      "description": "Static: IP endpoints over EDS. DNS: STRICT_DNS, Envoy resolves the addresses."
    },
    "endpoints": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "address": {
            "type": "string",
            "minLength": 1
          },
          "port": {
            "type": "integer",
            "minimum": 1,
            "maximum": 65535
          },
          "weight": {
            "type": "integer",
            "minimum": 1,
            "maximum": 131072
          }
        },
        "required": [
          "address",
          "port"
        ]
      }
    },
    "connectTimeout": {
      "type": "string",
      "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
      "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\".",
      "default": "5s"
    },
    "lbPolicy": {
      "enum": [
        "RoundRobin",
        "LeastRequest",
        "RingHash",
        "Random",
        "Maglev"
      ],
      "default": "RoundRobin"
    },
    "protocol": {
      "enum": [
        "HTTP1",
        "HTTP2"
      ],
      "default": "HTTP1"
    },
    "dnsLookupFamily": {
      "enum": [
        "Auto",
        "V4Only",
        "V6Only",
        "V4Preferred",
        "All"
      ]
    },
    "healthCheck": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "type": {
          "enum": [
            "HTTP",
            "TCP"
          ],
          "default": "HTTP"
        },
        "path": {
          "type": "string",
          "default": "/"
        },
        "interval": {
          "type": "string",
          "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
          "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\".",
          "default": "10s"
        },
        "timeout": {
          "type": "string",
          "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
          "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\".",
          "default": "1s"
        },
        "healthyThreshold": {
          "type": "integer",
          "minimum": 1,
          "default": 1
        },
        "unhealthyThreshold": {
          "type": "integer",
          "minimum": 1,
          "default": 3
        }
      }
    },
    "circuitBreakers": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "maxConnections": {
          "type": "integer",
          "minimum": 0
        },
        "maxPendingRequests": {
          "type": "integer",
          "minimum": 0
        },
        "maxRequests": {
          "type": "integer",
          "minimum": 0
        },
        "maxRetries": {
          "type": "integer",
          "minimum": 0
        }
      }
    },
    "outlierDetection": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "consecutive5xx": {
          "type": "integer",
          "minimum": 0
        },
        "interval": {
          "type": "string",
          "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
          "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\"."
        },
        "baseEjectionTime": {
          "type": "string",
          "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$",
          "description": "A duration: \"250ms\", \"5s\", \"1m\", \"1h\"."
        },
        "maxEjectionPercent": {
          "type": "integer",
          "minimum": 0,
          "maximum": 100
        }
      }
    },
    "tls": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "sni": {
          "type": "string"
        },
        "validationSecret": {
          "type": "string",
          "description": "A Secret with validationContext: the upstream's certificate must verify against it."
        },
        "clientSecret": {
          "type": "string",
          "description": "A Secret with tlsCertificate: presented to the upstream as a client certificate."
        },
        "subjectAltNames": {
          "type": "array",
          "minItems": 1,
          "items": {
            "type": "string",
            "pattern": "^(DNS|URI|IP|EMAIL):.+$"
          },
          "description": "With validationSecret: the upstream's certificate must carry one of these, written TYPE:value (DNS:, URI:, IP:, EMAIL:)."
        }
      },
      "description": "Upstream TLS."
    }
  }
};
