import type { TrafficCounts } from "../status/traffic-sink.ts";

export interface TrafficVerdictInput {
  /** The canary's requests, 5xx and upstream connection attempts since the bake started. */
  readonly canary: TrafficCounts;
  /** The same, summed over the proxies still on the previous revision. */
  readonly baseline: TrafficCounts;
  /** Percentage points (0.05 = 5) the canary's 5xx share may exceed the baseline's by. */
  readonly max5xxIncrease: number;
  /** Percentage points the canary's share of failed upstream connection attempts may exceed the baseline's by. */
  readonly maxConnectFailIncrease: number;
  /** Canary requests (for connect failures: connection attempts) needed before a share is judged. */
  readonly minRequests: number;
  readonly fromRevision: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** One signal: `bad` of `total` on canary and baseline; the reason when the canary is worse by more than `max`. */
function judged(options: { what: string; unit: string; canary: [bad: number, total: number]; baseline: [bad: number, total: number]; max: number; minTotal: number; fromRevision: number }): string | undefined {
  const [cBad, cTotal] = options.canary;
  const [bBad, bTotal] = options.baseline;
  if (cTotal < options.minTotal || cTotal === 0) return undefined;
  const canaryShare = cBad / cTotal;
  // No traffic on the rest to compare with: judged against a clean baseline.
  const baseShare = bTotal === 0 ? 0 : bBad / bTotal;
  if (canaryShare - baseShare <= options.max) return undefined;
  return `canary ${options.what} ${pct(canaryShare)} (${cBad} of ${cTotal} ${options.unit}) against ${pct(baseShare)} (${bBad} of ${bTotal}) on the proxies still on revision ${options.fromRevision}: more than ${pct(options.max)} worse`;
}

/**
 * Whether the canary's traffic is worse than the baseline's (issue 11 item 2): the reason, with
 * the numbers, when its 5xx share, or its share of failed upstream connection attempts (a change
 * that points a cluster at a closed port; a TCP proxy has no 5xx to show it), is more than allowed
 * above the baseline's; both, joined by "; ", when both are. Undefined while neither is, or while
 * the canary has served too few requests (made too few connection attempts) to say.
 */
export function trafficVerdict(input: TrafficVerdictInput): string | undefined {
  const { canary: c, baseline: b, fromRevision, minRequests } = input;
  const reasons = [
    judged({ what: "5xx share", unit: "requests", canary: [c.errors5xx, c.requests], baseline: [b.errors5xx, b.requests], max: input.max5xxIncrease, minTotal: minRequests, fromRevision }),
    judged({
      what: "upstream connect failure share",
      unit: "connection attempts",
      canary: [c.connectFailures, c.connects],
      baseline: [b.connectFailures, b.connects],
      max: input.maxConnectFailIncrease,
      minTotal: minRequests,
      fromRevision,
    }),
  ].filter((r) => r !== undefined);
  return reasons.length === 0 ? undefined : reasons.join("; ");
}
