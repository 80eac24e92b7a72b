// Type URLs of the xDS resource types this library serves.
const prefix = "type.googleapis.com/";

export const TypeUrl = {
  Cluster: `${prefix}envoy.config.cluster.v3.Cluster`,
  Endpoint: `${prefix}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  Listener: `${prefix}envoy.config.listener.v3.Listener`,
  Route: `${prefix}envoy.config.route.v3.RouteConfiguration`,
  ScopedRoute: `${prefix}envoy.config.route.v3.ScopedRouteConfiguration`,
  VirtualHost: `${prefix}envoy.config.route.v3.VirtualHost`,
  Secret: `${prefix}envoy.extensions.transport_sockets.tls.v3.Secret`,
  Runtime: `${prefix}envoy.service.runtime.v3.Runtime`,
  ExtensionConfig: `${prefix}envoy.config.core.v3.TypedExtensionConfig`,
} as const;

export type KnownTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** The type URL for a fully-qualified protobuf message name. */
export function typeUrlOf(typeName: string): string {
  return prefix + typeName;
}

/** The message name inside a type URL ("type.googleapis.com/a.b.C" -> "a.b.C"). */
export function typeNameOf(typeUrl: string): string {
  const slash = typeUrl.lastIndexOf("/");
  return slash < 0 ? typeUrl : typeUrl.slice(slash + 1);
}
