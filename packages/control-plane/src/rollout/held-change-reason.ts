import { isRunning, type Rollout } from "./rollout.ts";

/** The stored rollout a previous run left running, before the controller takes it up (startup). */
export function storedRunningRollout(records: readonly { readonly body: string }[]): Rollout | undefined {
  const [latest] = records;
  if (latest === undefined) return undefined;
  const rollout = JSON.parse(latest.body) as Rollout;
  return isRunning(rollout) ? rollout : undefined;
}

/**
 * Why a watched file's change waits (issue 11 item 5): applied during a rollout it would bypass
 * it (the held proxies would stay on the old revision while the canary got it, and a failed canary
 * would roll the store back over it), so it is applied once the rollout ends; says how to end it.
 */
export function heldChangeReason(rollout: Rollout | undefined): string {
  if (!isRunning(rollout)) return "a rollout is being started: the change is applied once it ends (tcp rollout status)";
  const stage = rollout.stages === undefined ? "" : `, stage ${(rollout.stage ?? 0) + 1} of ${rollout.stages.length}`;
  return `rollout ${rollout.id} is running (${rollout.state}${stage}, revision ${rollout.fromRevision} -> ${rollout.toRevision}) and a change now would bypass it; it is applied once the rollout ends: promote it (tcp rollout promote) or abort it (tcp rollout abort)`;
}
