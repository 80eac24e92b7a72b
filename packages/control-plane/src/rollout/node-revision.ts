import { createHash } from "node:crypto";
import { pinnedKey } from "../reconciler/reconciler.ts";
import { isRunning, type Rollout } from "./rollout.ts";

/**
 * The one place that decides which revision each proxy is served during a
 * rollout (issue 11). Proxies on the stored (newest) revision read their node
 * group's snapshot as always; a proxy held on an older revision reads it under
 * a pinned key (reconciler pinnedKey, `group@rN`), which the reconciler fills with that revision's
 * snapshots. A group name may itself end in "@r<digits>", so a pinned key is
 * recognised only against the revision pinned now (groupOfKey), never by its shape.
 */
/** The node group of a cache key, and the pinned revision when the key is one of `pinned`'s. */
export function groupOfKey(key: string, pinnedRevision: number | undefined): { group: string; revision?: number } {
  if (pinnedRevision === undefined) return { group: key };
  const suffix = pinnedKey("", pinnedRevision);
  return key.endsWith(suffix) ? { group: key.slice(0, -suffix.length), revision: pinnedRevision } : { group: key };
}

/** A stable position of a node id in [0, 2^32): the same proxies are chosen again after a restart. */
const rank = (nodeId: string): number => createHash("sha256").update(nodeId).digest().readUInt32BE(0);

/**
 * The canary share: the `share` % of `nodeIds` that rank lowest by hash of
 * their id, at least one when there is any (10% of 3 proxies is one canary, not none).
 */
export function chooseShare(nodeIds: readonly string[], share: number): string[] {
  const unique = [...new Set(nodeIds)];
  if (unique.length === 0) return [];
  const count = Math.min(unique.length, Math.max(1, Math.ceil((unique.length * share) / 100)));
  return unique
    .map((id) => ({ id, r: rank(id) }))
    .sort((a, b) => a.r - b.r || (a.id < b.id ? -1 : 1))
    .slice(0, count)
    .map((x) => x.id)
    .sort();
}

/** Whether a proxy is in the rollout's canary: its node group is the canary group, or it was chosen by share. */
export function isCanary(rollout: Rollout, node: { readonly id: string; readonly group: string }): boolean {
  return "group" in rollout.canary ? rollout.canary.group === node.group : rollout.canaryNodes.includes(node.id);
}

/**
 * The revision a proxy is to run: undefined for "the stored one" (its group's
 * own snapshot), or the revision it is held on. `hold` holds every proxy (a
 * change being committed, a failed canary being put back).
 */
export function revisionForNode(options: { readonly rollout: Rollout | undefined; readonly hold: number | undefined; readonly node: { readonly id: string; readonly group: string } }): number | undefined {
  if (options.hold !== undefined) return options.hold;
  const { rollout } = options;
  if (!isRunning(rollout)) return undefined;
  return isCanary(rollout, options.node) ? undefined : rollout.fromRevision;
}
