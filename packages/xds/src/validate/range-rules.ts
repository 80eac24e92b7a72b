import { type Check, report } from "./check-context.ts";

/** Anything `<` compares: numbers, bigints (int64 values, durations in nanoseconds). */
export type Ordered = number | bigint;

export interface Bounds {
  readonly lt?: Ordered;
  readonly lte?: Ordered;
  readonly gt?: Ordered;
  readonly gte?: Ordered;
}

/**
 * lt/lte/gt/gte as protoc-gen-validate combines them: a lower and an upper bound
 * make one range, and when the upper bound is not above the lower one the range is
 * exclusive (the value must lie outside it). Rule ids follow protovalidate
 * ("uint32.gte_lte", "int64.gt_lt_exclusive").
 */
export function compileRange(
  family: string,
  bounds: Bounds,
  toOrdered: (value: unknown) => Ordered,
  show: (bound: Ordered) => string,
): Check | undefined {
  const { lt, lte, gt, gte } = bounds;
  const upper = lt ?? lte;
  const lower = gt ?? gte;
  const upperName = lt !== undefined ? "lt" : "lte";
  const lowerName = gt !== undefined ? "gt" : "gte";
  if (upper === undefined && lower === undefined) return undefined;
  const below = (v: Ordered): boolean => (gt !== undefined ? v <= gt : gte !== undefined && v < gte);
  const above = (v: Ordered): boolean => (lt !== undefined ? v >= lt : lte !== undefined && v > lte);
  if (upper === undefined) {
    const text = gt !== undefined ? `value must be greater than ${show(gt)}` : `value must be greater than or equal to ${show(gte!)}`;
    const rule = `${family}.${lowerName}`;
    return (value, ctx) => {
      if (below(toOrdered(value))) report(ctx, rule, text);
    };
  }
  if (lower === undefined) {
    const text = lt !== undefined ? `value must be less than ${show(lt)}` : `value must be less than or equal to ${show(lte!)}`;
    const rule = `${family}.${upperName}`;
    return (value, ctx) => {
      if (above(toOrdered(value))) report(ctx, rule, text);
    };
  }
  const open = gt !== undefined ? "(" : "[";
  const close = lt !== undefined ? ")" : "]";
  const rule = `${family}.${lowerName}_${upperName}`;
  if (upper > lower) {
    const text = `value must be inside range ${open}${show(lower)}, ${show(upper)}${close}`;
    return (value, ctx) => {
      const v = toOrdered(value);
      if (below(v) || above(v)) report(ctx, rule, text);
    };
  }
  // Exclusive: the bounds are swapped, so the brackets flip too.
  const text = `value must be outside range ${lt !== undefined ? "[" : "("}${show(upper)}, ${show(lower)}${gt !== undefined ? "]" : ")"}`;
  return (value, ctx) => {
    const v = toOrdered(value);
    if (below(v) && above(v)) report(ctx, `${rule}_exclusive`, text);
  };
}
