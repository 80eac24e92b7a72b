import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType } from "../resource/resource-types.ts";
import { typeNameOf } from "../resource/type-urls.ts";

/**
 * Every EDS name a cluster references and every RDS name a listener (or scoped
 * route) references must exist in the same snapshot; otherwise Envoy warms the
 * cluster or listener forever, or routes to nothing (docs/xds-protocol.md).
 * Returns one human sentence per dangling reference.
 */
export function findDanglingReferences(byType: ReadonlyMap<string, ReadonlyMap<string, EncodedResource>>): string[] {
  const problems: string[] = [];
  for (const [typeUrl, items] of byType) {
    const type = resourceType(typeUrl);
    if (!type) continue;
    for (const r of items.values()) {
      for (const ref of type.references(r.message)) {
        const target = byType.get(ref.typeUrl);
        for (const name of ref.names) {
          if (!target?.has(name)) {
            const targetType = resourceType(ref.typeUrl)?.shortName ?? typeNameOf(ref.typeUrl);
            problems.push(`${type.shortName} resource '${r.name}' references ${targetType} resource '${name}', which the snapshot does not contain`);
          }
        }
      }
    }
  }
  return problems.sort();
}
