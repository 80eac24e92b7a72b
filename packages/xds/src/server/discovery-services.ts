import { TypeUrl } from "../resource/type-urls.ts";

/** One xDS gRPC method: its full path, and the type it serves (undefined: ADS). */
export interface DiscoveryMethod {
  readonly path: string;
  readonly variant: "sotw" | "delta";
  readonly typeUrl?: string;
}

const per = (service: string, sotw: string | undefined, delta: string, typeUrl: string): DiscoveryMethod[] => [
  ...(sotw ? [{ path: `/${service}/${sotw}`, variant: "sotw" as const, typeUrl }] : []),
  { path: `/${service}/${delta}`, variant: "delta" as const, typeUrl },
];

/** Every discovery method of the v3 API, ADS first. */
export const discoveryMethods: readonly DiscoveryMethod[] = [
  { path: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources", variant: "sotw" },
  { path: "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources", variant: "delta" },
  ...per("envoy.service.cluster.v3.ClusterDiscoveryService", "StreamClusters", "DeltaClusters", TypeUrl.Cluster),
  ...per("envoy.service.endpoint.v3.EndpointDiscoveryService", "StreamEndpoints", "DeltaEndpoints", TypeUrl.Endpoint),
  ...per("envoy.service.listener.v3.ListenerDiscoveryService", "StreamListeners", "DeltaListeners", TypeUrl.Listener),
  ...per("envoy.service.route.v3.RouteDiscoveryService", "StreamRoutes", "DeltaRoutes", TypeUrl.Route),
  ...per("envoy.service.route.v3.ScopedRoutesDiscoveryService", "StreamScopedRoutes", "DeltaScopedRoutes", TypeUrl.ScopedRoute),
  // VHDS exists only as a Delta service.
  ...per("envoy.service.route.v3.VirtualHostDiscoveryService", undefined, "DeltaVirtualHosts", TypeUrl.VirtualHost),
  ...per("envoy.service.secret.v3.SecretDiscoveryService", "StreamSecrets", "DeltaSecrets", TypeUrl.Secret),
  ...per("envoy.service.runtime.v3.RuntimeDiscoveryService", "StreamRuntime", "DeltaRuntime", TypeUrl.Runtime),
  ...per("envoy.service.extension.v3.ExtensionConfigDiscoveryService", "StreamExtensionConfigs", "DeltaExtensionConfigs", TypeUrl.ExtensionConfig),
];
