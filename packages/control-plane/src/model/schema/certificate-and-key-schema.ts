import type { JsonSchema } from "./json-schema.ts";

/**
 * A certificate with its key, inline or from files: one fragment for every place that takes one
 * (Listener tls and each of its tls.certificates, Secret tlsCertificate), as the readers share
 * certificateAndKeyFields (secret-spec.ts).
 */
export const certificateAndKeyProperties: Record<string, JsonSchema> = {
  "certificate": {
    "type": "string",
    "description": "PEM, inline.",
  },
  "key": {
    "type": "string",
    "description": "PEM, inline.",
  },
  "certificateFile": {
    "type": "string",
    "description": "Path, relative to the YAML file; read by the control plane.",
  },
  "keyFile": {
    "type": "string",
  },
};
