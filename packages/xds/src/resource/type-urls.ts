// Type URLs of the xDS resource types this library serves.
const prefix = "type.googleapis.com/";

/** Type URLs of the Envoy v3 resource types the library serves (go-control-plane's `resource.ClusterType`, `resource.ListenerType`, ...). */
export const TypeUrl = {
  /** CDS: `envoy.config.cluster.v3.Cluster`. */
  Cluster: `${prefix}envoy.config.cluster.v3.Cluster`,
  /** EDS: `envoy.config.endpoint.v3.ClusterLoadAssignment`. */
  Endpoint: `${prefix}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  /** LDS: `envoy.config.listener.v3.Listener`. */
  Listener: `${prefix}envoy.config.listener.v3.Listener`,
  /** RDS: `envoy.config.route.v3.RouteConfiguration`. */
  Route: `${prefix}envoy.config.route.v3.RouteConfiguration`,
  /** SRDS: `envoy.config.route.v3.ScopedRouteConfiguration`. */
  ScopedRoute: `${prefix}envoy.config.route.v3.ScopedRouteConfiguration`,
  /** VHDS: `envoy.config.route.v3.VirtualHost`. */
  VirtualHost: `${prefix}envoy.config.route.v3.VirtualHost`,
  /** SDS: `envoy.extensions.transport_sockets.tls.v3.Secret`. */
  Secret: `${prefix}envoy.extensions.transport_sockets.tls.v3.Secret`,
  /** RTDS: `envoy.service.runtime.v3.Runtime`. */
  Runtime: `${prefix}envoy.service.runtime.v3.Runtime`,
  /** ECDS: `envoy.config.core.v3.TypedExtensionConfig`. */
  ExtensionConfig: `${prefix}envoy.config.core.v3.TypedExtensionConfig`,
} as const;

/** One of the {@link TypeUrl} values. */
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
