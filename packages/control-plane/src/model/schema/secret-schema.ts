import { certificateAndKeyProperties } from "./certificate-and-key-schema.ts";
import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a Secret object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const secretSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "description": "A certificate with its key, or a CA bundle, sent to Envoy over SDS on the ADS stream. Exactly one of tlsCertificate and validationContext.",
  "properties": {
    "tlsCertificate": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        ...certificateAndKeyProperties
      },
      "description": "certificate+key inline, or certificateFile+keyFile."
    },
    "validationContext": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "caCertificates": {
          "type": "string",
          "description": "One or more PEM certificates, inline."
        },
        "caCertificatesFile": {
          "type": "string",
          "description": "Path of a PEM bundle, relative to the YAML file; read by the control plane (instead of caCertificates)."
        }
      }
    }
  },
  "oneOf": [
    {
      "required": [
        "tlsCertificate"
      ]
    },
    {
      "required": [
        "validationContext"
      ]
    }
  ]
};
