import { type Check, report } from "./check-context.ts";

export interface LengthBound {
  readonly rule: string;
  readonly n: number;
}

/**
 * Checks a string or bytes length against len/min/max rules, worded as Envoy's
 * validator does. An exact length wins, and min == max counts as exact (PGV).
 */
export function lengthCheck(
  unit: string,
  measure: (value: never) => number,
  bounds: { exact: LengthBound | undefined; min: LengthBound | undefined; max: LengthBound | undefined },
): Check | undefined {
  const m = measure as (v: unknown) => number;
  const { min, max } = bounds;
  const exact = bounds.exact ?? (min !== undefined && max !== undefined && min.n === max.n ? min : undefined);
  if (exact !== undefined) {
    const { rule, n } = exact;
    const text = `value length must be ${n} ${unit}`;
    return (v, ctx) => {
      if (m(v) !== n) report(ctx, rule, text);
    };
  }
  if (min !== undefined && max !== undefined) {
    const text = `value length must be between ${min.n} and ${max.n} ${unit}, inclusive`;
    return (v, ctx) => {
      const n = m(v);
      if (n < min.n) report(ctx, min.rule, text);
      else if (n > max.n) report(ctx, max.rule, text);
    };
  }
  if (min !== undefined) {
    const { rule, n } = min;
    const text = `value length must be at least ${n} ${unit}`;
    return (v, ctx) => {
      if (m(v) < n) report(ctx, rule, text);
    };
  }
  if (max !== undefined) {
    const { rule, n } = max;
    const text = `value length must be at most ${n} ${unit}`;
    return (v, ctx) => {
      if (m(v) > n) report(ctx, rule, text);
    };
  }
  return undefined;
}
