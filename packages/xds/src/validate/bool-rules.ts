import type { BoolRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { BoolRulesSchema } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { type Check, report } from "./check-context.ts";
import { hasRule } from "./rule-presence.ts";

/** The only bool rule: const. */
export function compileBoolRules(rules: BoolRules): Check | undefined {
  if (!hasRule(BoolRulesSchema, rules, "const")) return undefined;
  const want = rules.const;
  const text = `value must equal ${want}`;
  return (v, ctx) => {
    if (v !== want) report(ctx, "bool.const", text);
  };
}
