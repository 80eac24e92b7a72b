import { TypeUrl } from "@ts-control-plane/xds";
import type { GraphService } from "../graph/graph.ts";
import { clusterName } from "../graph/resource-names.ts";
import { buildCluster } from "./build-cluster.ts";
import { buildLoadAssignment } from "./build-load-assignment.ts";
import type { BuiltResource } from "./built-resource.ts";

/** The Cluster of a Service and, for Static ones, the ClusterLoadAssignment EDS serves for it. */
export function buildServiceResources(service: GraphService): BuiltResource[] {
  const self = `Service/${service.name}`;
  const owner = (): string => self;
  const objects = [self];
  const name = clusterName(service.name);
  const out: BuiltResource[] = [{ typeUrl: TypeUrl.Cluster, name, message: buildCluster(service), owner, objects }];
  if (service.spec.discovery === "Static") {
    out.push({ typeUrl: TypeUrl.Endpoint, name, message: buildLoadAssignment(name, service.spec.endpoints), owner, objects });
  }
  return out;
}
