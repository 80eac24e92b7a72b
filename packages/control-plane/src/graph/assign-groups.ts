import type { NodeSelectorSpec } from "../model/node-group-spec.ts";
import type { ValidObject } from "../model/validate-object.ts";

/** Which listeners and raw resources one group of Envoys receives. */
export interface GroupPlan {
  name: string;
  selector: NodeSelectorSpec;
  /** The NodeGroup object behind it; undefined for the implicit default group. */
  nodeGroup?: string;
  /** Sorted names. */
  listeners: string[];
  raw: string[];
  /** True when the group takes every object, not only what its listeners reach. */
  whole: boolean;
  /** Client certificate identities allowed to connect as this group (NodeGroupSpec.identities); any when absent. */
  identities?: readonly string[];
}

/** The name of the implicit group when no NodeGroup exists: it matches every node. */
export const DEFAULT_GROUP = "default";

/**
 * Without NodeGroup objects every node gets everything (group "default", empty selector).
 * With them, each group gets its listed listeners (all when the list is absent) and raw
 * resources (all when absent). Groups are sorted by name, the order nodes are matched in.
 */
export function assignGroups(input: {
  listeners: readonly string[];
  raw: readonly string[];
  nodeGroups: readonly Extract<ValidObject, { kind: "NodeGroup" }>[];
}): GroupPlan[] {
  if (input.nodeGroups.length === 0) {
    return [{ name: DEFAULT_GROUP, selector: {}, listeners: [...input.listeners], raw: [...input.raw], whole: true }];
  }
  const alive = new Set(input.listeners);
  const aliveRaw = new Set(input.raw);
  return input.nodeGroups
    .map((g) => ({
      name: g.name,
      selector: g.spec.selector,
      nodeGroup: g.name,
      listeners: g.spec.listeners === undefined ? [...input.listeners] : [...new Set(g.spec.listeners)].filter((l) => alive.has(l)).sort(),
      raw: g.spec.rawResources === undefined ? [...input.raw] : [...new Set(g.spec.rawResources)].filter((r) => aliveRaw.has(r)).sort(),
      whole: g.spec.listeners === undefined,
      ...(g.spec.identities === undefined ? {} : { identities: g.spec.identities }),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
