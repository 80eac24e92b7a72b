import type { TrafficCounts } from "../status/traffic-sink.ts";

export interface TrafficVerdictInput {
  /** The canary's requests and 5xx since the bake started. */
  readonly canary: TrafficCounts;
  /** The same, summed over the proxies still on the previous revision. */
  readonly baseline: TrafficCounts;
  /** Percentage points (0.05 = 5) the canary's 5xx share may exceed the baseline's by. */
  readonly max5xxIncrease: number;
  /** Canary requests needed before anything is judged. */
  readonly minRequests: number;
  readonly fromRevision: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * Whether the canary's traffic is worse than the baseline's (issue 11 item 2): the reason, with
 * the numbers, when its 5xx share is more than `max5xxIncrease` above; undefined while it is not,
 * or while the canary has served fewer than `minRequests` (too few to say).
 */
export function trafficVerdict(input: TrafficVerdictInput): string | undefined {
  const { canary: c, baseline: b } = input;
  if (c.requests < input.minRequests || c.requests === 0) return undefined;
  const canaryShare = c.errors5xx / c.requests;
  // No traffic on the rest to compare with: judged against a clean baseline.
  const baseShare = b.requests === 0 ? 0 : b.errors5xx / b.requests;
  if (canaryShare - baseShare <= input.max5xxIncrease) return undefined;
  return `canary 5xx share ${pct(canaryShare)} (${c.errors5xx} of ${c.requests} requests) against ${pct(baseShare)} (${b.errors5xx} of ${b.requests}) on the proxies still on revision ${input.fromRevision}: more than ${pct(input.max5xxIncrease)} worse`;
}
