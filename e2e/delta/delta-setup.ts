// What the Delta e2e tests share: an Envoy bootstrap in DELTA_GRPC mode (the
// harness builds SotW bootstraps only), config sources for resources that make
// Envoy fetch RDS/EDS over Delta, scenario resources, and an xDS server on the
// usual mux setup (snapshot cache for CDS/LDS/RDS, linear cache for EDS) with
// every hook event recorded.
import type { TestContext } from "node:test";
import { create, type Message } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema, type Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ApiConfigSource_ApiType, ApiVersion, ConfigSourceSchema, type ConfigSource } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouterSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/router/v3/router_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import {
  createLinearCache,
  createMuxCache,
  createSnapshotCache,
  createXdsServer,
  TypeUrl,
  type AckEvent,
  type DeltaRequestEvent,
  type DeltaResponseEvent,
  type LinearCache,
  type MuxCache,
  type NackEvent,
  type SnapshotCache,
  type XdsServer,
} from "@ts-control-plane/xds";
import { makeEndpoint, socketAddress } from "../../examples/embedded/demo-resources.ts";
import type { Json } from "../harness/config-dump.ts";
import { XDS_CLUSTER_NAME, xdsBootstrap } from "../harness/xds-bootstrap.ts";

/** Delta over one aggregated stream, or one Delta stream per type. */
export type DeltaMode = "delta-ads" | "delta-per-type";
export const deltaModes: readonly DeltaMode[] = ["delta-ads", "delta-per-type"];

/** Rewrites every `api_type: GRPC` of a SotW bootstrap to DELTA_GRPC. */
function toDelta(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDelta);
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === "api_type" && v === "GRPC" ? "DELTA_GRPC" : toDelta(v);
  return out;
}

/** An Envoy bootstrap fetching LDS and CDS over Delta (ADS or per type) from 127.0.0.1:xdsPort. */
export function deltaBootstrap(options: { xdsPort: number; mode: DeltaMode; nodeId: string }): Json {
  const sotw = xdsBootstrap({ xdsPort: options.xdsPort, mode: options.mode === "delta-ads" ? "ads" : "per-type", nodeId: options.nodeId });
  return toDelta(sotw) as Json;
}

/** How a resource makes Envoy fetch what it names (RDS, EDS): over ADS, or over its own Delta stream. */
export function deltaConfigSource(mode: DeltaMode): ConfigSource {
  if (mode === "delta-ads") {
    return create(ConfigSourceSchema, { resourceApiVersion: ApiVersion.V3, configSourceSpecifier: { case: "ads", value: {} } });
  }
  return create(ConfigSourceSchema, {
    resourceApiVersion: ApiVersion.V3,
    configSourceSpecifier: {
      case: "apiConfigSource",
      value: {
        apiType: ApiConfigSource_ApiType.DELTA_GRPC,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [{ targetSpecifier: { case: "envoyGrpc", value: { clusterName: XDS_CLUSTER_NAME } } }],
        setNodeOnFirstMessageOnly: true,
      },
    },
  });
}

export function edsCluster(name: string, mode: DeltaMode): Cluster {
  return create(ClusterSchema, {
    name,
    connectTimeout: create(DurationSchema, { seconds: 1n }),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: deltaConfigSource(mode) },
  });
}

export function httpListener(options: { name: string; port: number; routeConfigName: string; mode: DeltaMode }): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: "http",
    routeSpecifier: { case: "rds", value: { routeConfigName: options.routeConfigName, configSource: deltaConfigSource(options.mode) } },
    httpFilters: [{ name: "envoy.filters.http.router", configType: { case: "typedConfig", value: anyPack(RouterSchema, create(RouterSchema)) } }],
  });
  return create(ListenerSchema, {
    name: options.name,
    address: socketAddress("127.0.0.1", options.port),
    filterChains: [
      { filters: [{ name: "envoy.filters.network.http_connection_manager", configType: { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) } }] },
    ],
  });
}

/** A load assignment for a cluster: every port on 127.0.0.1, round robin. */
export function loadAssignment(cluster: string, ports: readonly number[]): Message {
  return makeEndpoint(
    cluster,
    ports.map((port) => ({ host: "127.0.0.1", port })),
  );
}

/** Every hook event the server raised, Delta requests and responses with their Delta fields. */
export interface DeltaEvents {
  readonly requests: DeltaRequestEvent[];
  readonly responses: DeltaResponseEvent[];
  readonly acks: AckEvent[];
  readonly nacks: NackEvent[];
  readonly hookErrors: unknown[];
}

export interface DeltaXdsFixture {
  readonly snapshots: SnapshotCache;
  readonly endpoints: LinearCache;
  readonly cache: MuxCache;
  readonly server: XdsServer;
  readonly port: number;
  readonly events: DeltaEvents;
  close(): Promise<void>;
}

/**
 * The library's xDS server on the usual mux setup, on an ephemeral port (or a
 * given one, to play a restarted control plane), closed in `t.after`.
 * Pass `caches` to serve the same content from a second server.
 */
export async function startDeltaXds(options: {
  t: TestContext;
  port?: number;
  caches?: { snapshots: SnapshotCache; endpoints: LinearCache };
  heartbeatIntervalMs?: number;
}): Promise<DeltaXdsFixture> {
  const snapshots = options.caches?.snapshots ?? createSnapshotCache({ ads: true });
  const endpoints = options.caches?.endpoints ?? createLinearCache({ typeUrl: TypeUrl.Endpoint });
  const cache = createMuxCache({ byType: { [TypeUrl.Endpoint]: endpoints }, fallback: snapshots });
  const events: DeltaEvents = { requests: [], responses: [], acks: [], nacks: [], hookErrors: [] };
  const server = createXdsServer({
    cache,
    controlPlaneId: "e2e-delta",
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    hooks: {
      onRequest: (e) => {
        if (e.variant === "delta") events.requests.push(e as DeltaRequestEvent);
      },
      onResponse: (e) => {
        if (e.variant === "delta") events.responses.push(e as DeltaResponseEvent);
      },
      onAck: (e) => events.acks.push(e),
      onNack: (e) => events.nacks.push(e),
      onHookError: (e) => events.hookErrors.push(e),
    },
  });
  const port = await server.listen({ host: "127.0.0.1", port: options.port ?? 0 });
  let closed: Promise<void> | undefined;
  const fixture: DeltaXdsFixture = {
    snapshots,
    endpoints,
    cache,
    server,
    port,
    events,
    close() {
      closed ??= server.close({ graceMs: 200 });
      return closed;
    },
  };
  options.t.after(() => fixture.close());
  return fixture;
}

/** Short type name for messages ("Cluster"). */
export function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}
