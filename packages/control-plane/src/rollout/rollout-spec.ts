import { parseDuration } from "../model/duration.ts";
import { RolloutError, RolloutErrorCode, type RolloutSpec } from "./rollout.ts";

/** The rollout options as text, the same from CLI flags and admin API query parameters. */
export interface RolloutSpecInput {
  /** "10%" or "10": the share of targeted proxies that goes first. */
  readonly canary?: string | undefined;
  /** A node group that goes first. */
  readonly canaryGroup?: string | undefined;
  readonly bake?: string | undefined;
  readonly ackTimeout?: string | undefined;
  readonly manualPromote?: boolean | undefined;
}

export const defaultBakeMs = 60_000;
export const defaultAckTimeoutMs = 30_000;

function duration(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  if (ms === undefined || ms < 0 || ms > 7 * 24 * 3_600_000) throw new RolloutError(RolloutErrorCode.Invalid, `${name} takes a duration such as 60s, 500ms or 5m (plain numbers are seconds, at most a week), got ${JSON.stringify(value)}`);
  return ms;
}

/** Undefined when no canary is asked for (an ordinary apply); throws RolloutError `rollout_invalid` for bad options. */
export function parseRolloutSpec(input: RolloutSpecInput): RolloutSpec | undefined {
  const { canary, canaryGroup } = input;
  if (canary === undefined && canaryGroup === undefined) {
    if (input.bake !== undefined || input.ackTimeout !== undefined || input.manualPromote === true) {
      throw new RolloutError(RolloutErrorCode.Invalid, "bake, ack timeout and manual promote belong to a rollout: add a canary (--canary 10% or --canary-group NAME)");
    }
    return undefined;
  }
  if (canary !== undefined && canaryGroup !== undefined) throw new RolloutError(RolloutErrorCode.Invalid, "say either a canary share (--canary 10%) or a canary node group (--canary-group NAME), not both");
  let selection: RolloutSpec["canary"];
  if (canary !== undefined) {
    const m = /^(\d{1,3}(?:\.\d+)?)%?$/.exec(canary.trim());
    const share = m === null ? Number.NaN : Number(m[1]);
    if (!(share > 0 && share <= 100)) throw new RolloutError(RolloutErrorCode.Invalid, `canary takes a share of the targeted proxies from 1% to 100%, such as 10%, got ${JSON.stringify(canary)}`);
    selection = { share };
  } else {
    if (canaryGroup === undefined || canaryGroup.trim() === "") throw new RolloutError(RolloutErrorCode.Invalid, "canary group needs the name of a NodeGroup");
    selection = { group: canaryGroup };
  }
  return {
    canary: selection,
    bakeMs: duration(input.bake, "bake", defaultBakeMs),
    ackTimeoutMs: duration(input.ackTimeout, "ack timeout", defaultAckTimeoutMs),
    manualPromote: input.manualPromote === true,
  };
}
