import type { EncodedResource } from "../resource/encoded-resource.ts";
import { clusterEdsName, mayReference, resourceType } from "../resource/resource-types.ts";
import { TypeUrl, typeNameOf } from "../resource/type-urls.ts";

/**
 * Every EDS name a cluster references and every RDS name a listener (or scoped
 * route) references must exist in the same snapshot; otherwise Envoy warms the
 * cluster or listener forever, or routes to nothing (docs/xds-protocol.md).
 * Returns one human sentence per dangling reference.
 */
export function findDanglingReferences(byType: ReadonlyMap<string, ReadonlyMap<string, EncodedResource>>): string[] {
  const problems: string[] = [];
  const dangling = (from: string, r: EncodedResource, targetUrl: string, name: string): void => {
    const targetType = resourceType(targetUrl)?.shortName ?? typeNameOf(targetUrl);
    problems.push(`${from} resource '${r.name}' references ${targetType} resource '${name}', which the snapshot does not contain`);
  };
  for (const [typeUrl, items] of byType) {
    const type = resourceType(typeUrl);
    if (!type || !mayReference(type)) continue;
    if (typeUrl === TypeUrl.Cluster) {
      // Clusters are most of a large snapshot's references: asked directly,
      // without a reference list per cluster.
      const endpoints = byType.get(TypeUrl.Endpoint);
      for (const r of items.values()) {
        const name = clusterEdsName(r.message);
        if (name !== undefined && !endpoints?.has(name)) dangling(type.shortName, r, TypeUrl.Endpoint, name);
      }
      continue;
    }
    for (const r of items.values()) {
      for (const ref of type.references(r.message)) {
        const target = byType.get(ref.typeUrl);
        for (const name of ref.names) {
          if (!target?.has(name)) dangling(type.shortName, r, ref.typeUrl, name);
        }
      }
    }
  }
  return problems.sort();
}
