import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import type { DurationRules, TimestampRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { allOf, type Check, report } from "./check-context.ts";
import { compileRange, type Ordered } from "./range-rules.ts";

const BILLION = 1_000_000_000n;

// Below this many seconds, nanoseconds fit a double exactly (2^53 ns is about 104 days).
const SAFE_SECONDS = 9_000_000n;

/**
 * A Duration or Timestamp as nanoseconds, so bounds compare exactly: a number
 * when it fits (every realistic duration; no BigInt arithmetic on the hot path),
 * else a bigint. `<` compares the two kinds correctly; equality goes through sameNanos.
 */
export function toNanos(v: Duration | Timestamp): Ordered {
  const s = BigInt(v.seconds);
  if (s > -SAFE_SECONDS && s < SAFE_SECONDS) return Number(s) * 1e9 + v.nanos;
  return s * BILLION + BigInt(v.nanos);
}

const sameNanos = (a: Ordered, b: Ordered): boolean => (typeof a === typeof b ? a === b : BigInt(a) === BigInt(b));
const nanosKey = (n: Ordered): string => String(n);

/** "1.5s", "0s", "-0.000000001s": seconds with the fraction trimmed. */
export function showDuration(nanos: Ordered): string {
  const n = BigInt(nanos);
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  const whole = abs / BILLION;
  const frac = (abs % BILLION).toString().padStart(9, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac === "" ? "" : "." + frac}s`;
}

function showTimestamp(nanos: Ordered): string {
  const n = BigInt(nanos);
  const ms = Number(n / 1_000_000n);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : `${n}ns`;
}

const asNanos = (v: unknown): Ordered => toNanos(v as Duration);

/** Duration rules on a present value (required is checked by the caller): const, ranges, in, not_in. */
export function compileDurationRules(r: DurationRules): Check | undefined {
  const checks: (Check | undefined)[] = [];
  if (r.const !== undefined) {
    const want = toNanos(r.const);
    const text = `value must equal ${showDuration(want)}`;
    checks.push((v, ctx) => {
      if (!sameNanos(asNanos(v), want)) report(ctx, "duration.const", text);
    });
  }
  checks.push(
    compileRange(
      "duration",
      {
        ...(r.lt ? { lt: toNanos(r.lt) } : {}),
        ...(r.lte ? { lte: toNanos(r.lte) } : {}),
        ...(r.gt ? { gt: toNanos(r.gt) } : {}),
        ...(r.gte ? { gte: toNanos(r.gte) } : {}),
      },
      asNanos,
      showDuration,
    ),
  );
  if (r.in.length > 0) {
    const set = new Set(r.in.map((d) => nanosKey(toNanos(d))));
    const text = `value must be in list [${r.in.map((d) => showDuration(toNanos(d))).join(" ")}]`;
    checks.push((v, ctx) => {
      if (!set.has(nanosKey(asNanos(v)))) report(ctx, "duration.in", text);
    });
  }
  if (r.notIn.length > 0) {
    const set = new Set(r.notIn.map((d) => nanosKey(toNanos(d))));
    const text = `value must not be in list [${r.notIn.map((d) => showDuration(toNanos(d))).join(" ")}]`;
    checks.push((v, ctx) => {
      if (set.has(nanosKey(asNanos(v)))) report(ctx, "duration.not_in", text);
    });
  }
  return allOf(checks);
}

/** Timestamp rules on a present value: const, ranges, lt_now, gt_now, within (against ctx.nowMs). */
export function compileTimestampRules(r: TimestampRules): Check | undefined {
  const checks: (Check | undefined)[] = [];
  if (r.const !== undefined) {
    const want = toNanos(r.const);
    const text = `value must equal ${showTimestamp(want)}`;
    checks.push((v, ctx) => {
      if (!sameNanos(asNanos(v), want)) report(ctx, "timestamp.const", text);
    });
  }
  checks.push(
    compileRange(
      "timestamp",
      {
        ...(r.lt ? { lt: toNanos(r.lt) } : {}),
        ...(r.lte ? { lte: toNanos(r.lte) } : {}),
        ...(r.gt ? { gt: toNanos(r.gt) } : {}),
        ...(r.gte ? { gte: toNanos(r.gte) } : {}),
      },
      asNanos,
      showTimestamp,
    ),
  );
  const within = r.within !== undefined ? BigInt(toNanos(r.within)) : undefined;
  const nowOf = (ms: number): bigint => BigInt(Math.trunc(ms)) * 1_000_000n;
  if (r.ltNow) {
    checks.push((v, ctx) => {
      const now = nowOf(ctx.nowMs);
      const t = BigInt(asNanos(v));
      if (t >= now) report(ctx, "timestamp.lt_now", "value must be less than now");
      else if (within !== undefined && now - t > within) report(ctx, "timestamp.lt_now", `value must be less than now within ${showDuration(within)}`);
    });
  } else if (r.gtNow) {
    checks.push((v, ctx) => {
      const now = nowOf(ctx.nowMs);
      const t = BigInt(asNanos(v));
      if (t <= now) report(ctx, "timestamp.gt_now", "value must be greater than now");
      else if (within !== undefined && t - now > within) report(ctx, "timestamp.gt_now", `value must be greater than now within ${showDuration(within)}`);
    });
  } else if (within !== undefined) {
    checks.push((v, ctx) => {
      const d = BigInt(asNanos(v)) - nowOf(ctx.nowMs);
      if (d > within || -d > within) report(ctx, "timestamp.within", `value must be within ${showDuration(within)} of now`);
    });
  }
  return allOf(checks);
}
