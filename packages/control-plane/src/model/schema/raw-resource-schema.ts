import type { JsonSchema } from "./json-schema.ts";

/** The JSON Schema of a RawResource object's spec; the reader takes its allowed fields from here (packages/control-plane/schema/README.md). */
export const rawResourceSchema: JsonSchema = {
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "resource": {
      "type": "object",
      "required": [
        "@type"
      ],
      "properties": {
        "@type": {
          "enum": [
            "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
            "type.googleapis.com/envoy.config.listener.v3.Listener",
            "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
            "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration",
            "type.googleapis.com/envoy.config.route.v3.VirtualHost",
            "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            "type.googleapis.com/envoy.service.runtime.v3.Runtime",
            "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
          ]
        }
      },
      "description": "An Envoy v3 resource in Envoy's own YAML/JSON (proto3 JSON), with its @type."
    }
  },
  "required": [
    "resource"
  ]
};
