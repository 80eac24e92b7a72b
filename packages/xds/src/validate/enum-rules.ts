import type { DescEnum } from "@bufbuild/protobuf";
import type { EnumRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { EnumRulesSchema } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { allOf, type Check, report } from "./check-context.ts";
import { showList } from "./numeric-rules.ts";
import { hasRule } from "./rule-presence.ts";

/** Enum rules: const, defined_only, in, not_in. Values are the enum numbers. */
export function compileEnumRules(desc: DescEnum, rules: EnumRules): Check | undefined {
  const checks: (Check | undefined)[] = [];
  if (hasRule(EnumRulesSchema, rules, "const")) {
    const want = rules.const;
    const text = `value must equal ${want}`;
    checks.push((v, ctx) => {
      if (v !== want) report(ctx, "enum.const", text);
    });
  }
  if (rules.definedOnly) {
    const defined = new Set(desc.values.map((v) => v.number));
    checks.push((v, ctx) => {
      if (!defined.has(v as number)) report(ctx, "enum.defined_only", "value must be one of the defined enum values");
    });
  }
  if (rules.in.length > 0) {
    const set = new Set(rules.in);
    const text = `value must be in list ${showList(rules.in)}`;
    checks.push((v, ctx) => {
      if (!set.has(v as number)) report(ctx, "enum.in", text);
    });
  }
  if (rules.notIn.length > 0) {
    const set = new Set(rules.notIn);
    const text = `value must not be in list ${showList(rules.notIn)}`;
    checks.push((v, ctx) => {
      if (set.has(v as number)) report(ctx, "enum.not_in", text);
    });
  }
  return allOf(checks);
}
