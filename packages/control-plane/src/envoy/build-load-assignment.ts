import { create } from "@bufbuild/protobuf";
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import type { Endpoint } from "../model/service-spec.ts";
import { socketAddress } from "./socket-address.ts";

/**
 * The endpoints of a service. Sorted by address and port so that reordering them in the
 * file does not produce a new version (versions are content hashes). Endpoint addresses
 * stay plain (TCP) socket addresses even behind a UDP proxy: udp_proxy sends datagrams to
 * the host's address whatever its protocol field says, as in Envoy's own UDP example.
 */
export function buildLoadAssignment(name: string, endpoints: readonly Endpoint[]): ClusterLoadAssignment {
  const sorted = [...endpoints].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  const lbEndpoints = sorted.map((e) => ({
    hostIdentifier: { case: "endpoint" as const, value: { address: socketAddress(e.address, e.port) } },
    ...(e.weight === undefined ? {} : { loadBalancingWeight: e.weight }),
  }));
  return create(ClusterLoadAssignmentSchema, { clusterName: name, endpoints: lbEndpoints.length === 0 ? [] : [{ lbEndpoints }] });
}
