// The fan-out benchmarks' configuration (sotw-fanout.ts, delta-fanout.ts): R
// EDS clusters over ADS, each with a ClusterLoadAssignment of two endpoints.
// Resources are encoded once and reused, so the "one change" snapshot
// re-encodes one resource only, the way a control plane that keeps its
// encoded resources would.
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { type Cluster, Cluster_DiscoveryType, ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { AggregatedConfigSourceSchema, ConfigSourceSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";
import { type ClusterLoadAssignment, ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { encodeResource, type EncodedResource } from "@ts-control-plane/xds";

/** Cluster (and EDS) names, the same in the server and the client process. */
export function clusterNames(count: number): string[] {
  const width = String(Math.max(count - 1, 0)).length;
  return Array.from({ length: count }, (_, i) => `cluster-${String(i).padStart(width, "0")}`);
}

/**
 * `generation` moves the connect timeout (1 s + generation), so the peer
 * benchmark's all-change (bench/peer.ts) changes every cluster; 0 is the
 * fan-out benchmarks' cluster.
 */
export function clusterMessage(name: string, options: { readonly generation?: number } = {}): Cluster {
  return create(ClusterSchema, {
      name,
      connectTimeout: create(DurationSchema, { seconds: BigInt(1 + (options.generation ?? 0)) }),
      clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: { edsConfig: create(ConfigSourceSchema, { configSourceSpecifier: { case: "ads", value: create(AggregatedConfigSourceSchema) } }) },
  });
}

/** {@link clusterMessage}, encoded. */
export function encodedCluster(name: string, options: { readonly generation?: number } = {}): EncodedResource {
  return encodeResource(ClusterSchema, clusterMessage(name, options));
}

/** A load assignment with the given IPv4 endpoints on port 8080 + `generation` (0 unless the peer benchmark's all-change moves it). */
export function assignmentMessage(name: string, addresses: readonly string[], options: { readonly generation?: number } = {}): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
      clusterName: name,
      endpoints: [
        {
          locality: { region: "bench", zone: "a" },
          loadBalancingWeight: 1,
          lbEndpoints: addresses.map((address) => ({
            hostIdentifier: {
              case: "endpoint" as const,
              value: { address: { address: { case: "socketAddress" as const, value: { address, portSpecifier: { case: "portValue" as const, value: 8080 + (options.generation ?? 0) } } } } },
            },
          })),
        },
      ],
  });
}

/** {@link assignmentMessage}, encoded. */
export function encodedAssignment(name: string, addresses: readonly string[], options: { readonly generation?: number } = {}): EncodedResource {
  return encodeResource(ClusterLoadAssignmentSchema, assignmentMessage(name, addresses, options));
}

/** Two distinct private addresses for cluster i (i < 65536). */
export function addressesOf(i: number): string[] {
  const base = `10.${(i >> 8) & 255}.${i & 255}`;
  return [`${base}.1`, `${base}.2`];
}

export interface FanoutResources {
  readonly names: readonly string[];
  readonly clusters: readonly EncodedResource[];
  readonly assignments: readonly EncodedResource[];
}

export function fanoutResources(count: number): FanoutResources {
  const names = clusterNames(count);
  return {
    names,
    clusters: names.map((n) => encodedCluster(n)),
    assignments: names.map((n, i) => encodedAssignment(n, addressesOf(i))),
  };
}
