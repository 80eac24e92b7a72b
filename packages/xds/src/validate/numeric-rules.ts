import type { DescMessage, Message } from "@bufbuild/protobuf";
import { allOf, type Check, report } from "./check-context.ts";
import { compileRange, type Bounds, type Ordered } from "./range-rules.ts";
import { hasRule } from "./rule-presence.ts";

interface NumericRulesShape {
  const: Ordered;
  lt: Ordered;
  lte: Ordered;
  gt: Ordered;
  gte: Ordered;
  in: Ordered[];
  notIn: Ordered[];
  ignoreEmpty?: boolean;
}

const asOrdered = (v: unknown): Ordered => (typeof v === "bigint" ? v : Number(v));

/** Renders a list the way Envoy's messages do: "[1 2 3]". */
export function showList(values: readonly unknown[]): string {
  return `[${values.map(String).join(" ")}]`;
}

/**
 * Rules for every numeric family (int32 ... sfixed64, float, double): const,
 * lt/lte/gt/gte ranges, in, not_in, ignore_empty. 64-bit values are bigints and
 * 32-bit ones numbers; `<` compares them across types, and in/not_in compare
 * their decimal strings.
 */
export function compileNumericRules(family: string, schema: DescMessage, rules: Message): Check | undefined {
  const r = rules as unknown as NumericRulesShape;
  const has = (name: string): boolean => hasRule(schema, rules, name);
  const checks: (Check | undefined)[] = [];
  if (has("const")) {
    const want = String(r.const);
    const text = `value must equal ${want}`;
    checks.push((v, ctx) => {
      if (String(v) !== want) report(ctx, `${family}.const`, text);
    });
  }
  const bounds: { -readonly [K in keyof Bounds]: Bounds[K] } = {};
  if (has("lt")) bounds.lt = r.lt;
  if (has("lte")) bounds.lte = r.lte;
  if (has("gt")) bounds.gt = r.gt;
  if (has("gte")) bounds.gte = r.gte;
  checks.push(compileRange(family, bounds, asOrdered, String));
  if (r.in.length > 0) {
    const set = new Set(r.in.map(String));
    const text = `value must be in list ${showList(r.in)}`;
    checks.push((v, ctx) => {
      if (!set.has(String(v))) report(ctx, `${family}.in`, text);
    });
  }
  if (r.notIn.length > 0) {
    const set = new Set(r.notIn.map(String));
    const text = `value must not be in list ${showList(r.notIn)}`;
    checks.push((v, ctx) => {
      if (set.has(String(v))) report(ctx, `${family}.not_in`, text);
    });
  }
  const check = allOf(checks);
  if (check === undefined || r.ignoreEmpty !== true) return check;
  return (v, ctx) => {
    if (v !== 0 && v !== 0n) check(v, ctx);
  };
}
