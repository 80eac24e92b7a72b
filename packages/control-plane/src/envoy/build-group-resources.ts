import { pushOrder, TypeUrl } from "@ts-control-plane/xds";
import type { GraphGroup, GraphListener, GraphSecret, GraphService } from "../graph/graph.ts";
import { secretName } from "../graph/resource-names.ts";
import { buildListenerResources } from "./build-listener-resources.ts";
import { buildServiceResources } from "./build-service-resources.ts";
import { buildSecret } from "./build-secret.ts";
import type { BuiltResource } from "./built-resource.ts";
import type { Steps } from "../model/time-slice.ts";

/**
 * Memo of built resources, by object. A listener or service that appears in several
 * groups, or did not change since the last compile, is built once. The key must capture
 * everything the builder reads (see graphKey), so a hit is always safe.
 */
export interface BuildMemo {
  readonly listeners: Map<string, { key: string; resources: BuiltResource[] }>;
  readonly services: Map<string, { key: string; resources: BuiltResource[] }>;
  readonly secrets: Map<string, { key: string; resources: BuiltResource[] }>;
}

export function createBuildMemo(): BuildMemo {
  return { listeners: new Map(), services: new Map(), secrets: new Map() };
}

/**
 * Every resource of one group, sorted in ADS push order (CDS, EDS, LDS, RDS, ...) then by name;
 * the steps yield between services and listeners (model/time-slice.ts).
 */
export function* buildGroupResources(group: GraphGroup, memo: BuildMemo = createBuildMemo()): Steps<BuiltResource[]> {
  const out: BuiltResource[] = [];
  for (const s of group.services) {
    yield;
    out.push(...memoized(memo.services, s.name, graphKey(s), () => buildServiceResources(s)));
  }
  for (const l of group.listeners) {
    yield;
    out.push(...memoized(memo.listeners, l.name, graphKey(l), () => buildListenerResources(l)));
  }
  for (const x of group.secrets) out.push(...memoized(memo.secrets, x.name, graphKey(x), () => [secretResource(x)]));
  for (const r of group.raw) {
    const owner = `RawResource/${r.name}`;
    out.push({ typeUrl: r.spec.typeUrl, name: r.spec.name, message: r.spec.message, owner: () => owner, objects: [owner] });
  }
  return out.sort(compareResources);
}

function secretResource(x: GraphSecret): BuiltResource {
  const self = `Secret/${x.name}`;
  return { typeUrl: TypeUrl.Secret, name: secretName(x.name), message: buildSecret(x), owner: () => self, objects: [self] };
}

export function compareResources(a: BuiltResource, b: BuiltResource): number {
  const order = pushOrder(a.typeUrl) - pushOrder(b.typeUrl);
  if (order !== 0) return order;
  if (a.typeUrl !== b.typeUrl) return a.typeUrl < b.typeUrl ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function memoized(
  table: Map<string, { key: string; resources: BuiltResource[] }>,
  name: string,
  key: string,
  build: () => BuiltResource[],
): BuiltResource[] {
  const hit = table.get(name);
  if (hit !== undefined && hit.key === key) return hit.resources;
  const resources = build();
  table.set(name, { key, resources });
  return resources;
}

/** A stable fingerprint of a graph node: everything its builder reads. */
export function graphKey(node: GraphListener | GraphService | GraphSecret): string {
  return JSON.stringify(node);
}
