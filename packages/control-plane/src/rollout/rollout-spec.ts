import { parseDuration } from "../model/duration.ts";
import { RolloutError, RolloutErrorCode, type RolloutSpec } from "./rollout.ts";

/** The rollout options as text, the same from CLI flags and admin API query parameters. */
export interface RolloutSpecInput {
  /** "10%" or "10": the share of targeted proxies that goes first; "10%,50%": stages, growing. */
  readonly canary?: string | undefined;
  /** A node group that goes first. */
  readonly canaryGroup?: string | undefined;
  readonly bake?: string | undefined;
  readonly ackTimeout?: string | undefined;
  readonly manualPromote?: boolean | undefined;
  /** "5%": how much worse the canary's 5xx share may be than the rest's. */
  readonly max5xxIncrease?: string | undefined;
  readonly minRequests?: string | undefined;
  /** "5%": how much worse the canary's share of failed upstream connection attempts may be than the rest's. */
  readonly maxConnectFailIncrease?: string | undefined;
}

export const defaultBakeMs = 60_000;
export const defaultAckTimeoutMs = 30_000;
export const defaultMax5xxIncrease = 0.05;
export const defaultMinRequests = 20;
export const defaultMaxConnectFailIncrease = 0.05;

function percent(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d{1,3}(?:\.\d+)?)%$/.exec(value.trim());
  const share = m === null ? Number.NaN : Number(m[1]);
  if (!(share >= 0 && share <= 100)) throw new RolloutError(RolloutErrorCode.Invalid, `${name} takes percentage points from 0% to 100%, such as 5%, got ${JSON.stringify(value)}`);
  return share / 100;
}

/** "10%,50%": each stage's share, growing, each from 1% to 99% but the last, which may be 100%. */
function shares(canary: string): number[] {
  const parts = canary.split(",").map((part) => {
    const m = /^(\d{1,3}(?:\.\d+)?)%?$/.exec(part.trim());
    const share = m === null ? Number.NaN : Number(m[1]);
    if (!(share > 0 && share <= 100)) throw new RolloutError(RolloutErrorCode.Invalid, `canary takes a share of the targeted proxies from 1% to 100%, such as 10% (or stages such as 10%,50%), got ${JSON.stringify(canary)}`);
    return share;
  });
  for (let i = 1; i < parts.length; i++) {
    if ((parts[i] ?? 0) <= (parts[i - 1] ?? 0)) throw new RolloutError(RolloutErrorCode.Invalid, `canary stages must grow, such as 10%,50% (every proxy gets the change after the last), got ${JSON.stringify(canary)}`);
  }
  return parts;
}

function count(value: string | undefined): number {
  if (value === undefined) return defaultMinRequests;
  if (!/^\d{1,9}$/.test(value.trim()) || Number(value) < 1) throw new RolloutError(RolloutErrorCode.Invalid, `min requests takes a whole number of requests from 1, such as 20, got ${JSON.stringify(value)}`);
  return Number(value);
}

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
    if (input.bake !== undefined || input.ackTimeout !== undefined || input.manualPromote === true || input.max5xxIncrease !== undefined || input.minRequests !== undefined || input.maxConnectFailIncrease !== undefined) {
      throw new RolloutError(RolloutErrorCode.Invalid, "bake, ack timeout, manual promote, max 5xx increase, max connect fail increase and min requests belong to a rollout: add a canary (--canary 10% or --canary-group NAME)");
    }
    return undefined;
  }
  if (canary !== undefined && canaryGroup !== undefined) throw new RolloutError(RolloutErrorCode.Invalid, "say either a canary share (--canary 10%) or a canary node group (--canary-group NAME), not both");
  let selection: RolloutSpec["canary"];
  if (canary !== undefined) {
    const [share = 0, ...next] = shares(canary);
    selection = next.length === 0 ? { share } : { share, next };
  } else {
    if (canaryGroup === undefined || canaryGroup.trim() === "") throw new RolloutError(RolloutErrorCode.Invalid, "canary group needs the name of a NodeGroup");
    selection = { group: canaryGroup };
  }
  return {
    canary: selection,
    bakeMs: duration(input.bake, "bake", defaultBakeMs),
    ackTimeoutMs: duration(input.ackTimeout, "ack timeout", defaultAckTimeoutMs),
    manualPromote: input.manualPromote === true,
    max5xxIncrease: percent(input.max5xxIncrease, "max 5xx increase", defaultMax5xxIncrease),
    minRequests: count(input.minRequests),
    maxConnectFailIncrease: percent(input.maxConnectFailIncrease, "max connect fail increase", defaultMaxConnectFailIncrease),
  };
}
