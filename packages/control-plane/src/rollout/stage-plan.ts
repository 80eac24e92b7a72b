import { chooseShare } from "./node-revision.ts";
import type { CanarySelection } from "./rollout.ts";

export interface StagePlanInput {
  readonly canary: CanarySelection;
  /** The connected proxies and their node groups. */
  readonly proxies: readonly { readonly id: string; readonly group: string }[];
  /** The node groups whose configuration the change alters (the proxies it targets). */
  readonly changedGroups: ReadonlySet<string>;
}

/**
 * The canary proxies of each stage, before everyone (issue 11): a node group is one stage; shares
 * (10%, 50%) are one stage each, taken from the targeted proxies by the same stable rank
 * (chooseShare), so the 10% are inside the 50% and a proxy never goes back to the old revision
 * when the next stage starts.
 */
export function stagePlan(input: StagePlanInput): string[][] {
  const { canary } = input;
  if ("group" in canary) return [input.proxies.filter((p) => p.group === canary.group).map((p) => p.id).sort()];
  const targeted = input.proxies.filter((p) => input.changedGroups.has(p.group)).map((p) => p.id);
  return [canary.share, ...(canary.next ?? [])].map((share) => chooseShare(targeted, share));
}
