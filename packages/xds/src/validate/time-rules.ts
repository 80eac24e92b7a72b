import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import type { DurationRules, TimestampRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { allOf, type Check, report } from "./check-context.ts";
import { compileRange, type Ordered } from "./range-rules.ts";

const BILLION = 1_000_000_000n;

/** A Duration or Timestamp as nanoseconds, so bounds compare exactly. */
export function toNanos(v: Duration | Timestamp): bigint {
  return BigInt(v.seconds) * BILLION + BigInt(v.nanos);
}

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
      if (asNanos(v) !== want) report(ctx, "duration.const", text);
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
    const set = new Set(r.in.map(toNanos));
    const text = `value must be in list [${r.in.map((d) => showDuration(toNanos(d))).join(" ")}]`;
    checks.push((v, ctx) => {
      if (!set.has(asNanos(v) as bigint)) report(ctx, "duration.in", text);
    });
  }
  if (r.notIn.length > 0) {
    const set = new Set(r.notIn.map(toNanos));
    const text = `value must not be in list [${r.notIn.map((d) => showDuration(toNanos(d))).join(" ")}]`;
    checks.push((v, ctx) => {
      if (set.has(asNanos(v) as bigint)) report(ctx, "duration.not_in", text);
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
      if (asNanos(v) !== want) report(ctx, "timestamp.const", text);
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
  const within = r.within !== undefined ? toNanos(r.within) : undefined;
  const nowOf = (ms: number): bigint => BigInt(Math.trunc(ms)) * 1_000_000n;
  if (r.ltNow) {
    checks.push((v, ctx) => {
      const now = nowOf(ctx.nowMs);
      const t = asNanos(v) as bigint;
      if (t >= now) report(ctx, "timestamp.lt_now", "value must be less than now");
      else if (within !== undefined && now - t > within) report(ctx, "timestamp.lt_now", `value must be less than now within ${showDuration(within)}`);
    });
  } else if (r.gtNow) {
    checks.push((v, ctx) => {
      const now = nowOf(ctx.nowMs);
      const t = asNanos(v) as bigint;
      if (t <= now) report(ctx, "timestamp.gt_now", "value must be greater than now");
      else if (within !== undefined && t - now > within) report(ctx, "timestamp.gt_now", `value must be greater than now within ${showDuration(within)}`);
    });
  } else if (within !== undefined) {
    checks.push((v, ctx) => {
      const d = (asNanos(v) as bigint) - nowOf(ctx.nowMs);
      if (d > within || -d > within) report(ctx, "timestamp.within", `value must be within ${showDuration(within)} of now`);
    });
  }
  return allOf(checks);
}
