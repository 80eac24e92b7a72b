import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { type Check, type CheckContext, report } from "./check-context.ts";
import { compileMap, compileRepeated } from "./collection-rules.ts";
import { OPAQUE_ANY_FIELDS } from "./opaque-any-fields.ts";
import { fieldRules, messageSkipped, oneofRequired } from "./rule-options.ts";
import { compileValueCheck, requiredRule, type ValueKind } from "./value-checks.ts";

/** One compiled step over a message's fields. */
export type Step = (message: Record<string, unknown>, ctx: CheckContext) => void;

/** Everything to check on messages of one type; no steps means nothing can be wrong. */
export interface MessagePlan {
  readonly steps: readonly Step[];
}

const plans = new WeakMap<DescMessage, MessagePlan>();

/**
 * The compiled plan for a message type, built on first use and cached per
 * descriptor: rules are decoded from the options once, and fields that can
 * never report anything get no step at all.
 */
export function messagePlan(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc);
  if (plan === undefined) {
    const steps: Step[] = [];
    // Registered before compiling so recursive types (a matcher holding matchers) find it.
    plan = { steps };
    plans.set(desc, plan);
    if (!messageSkipped(desc)) compileSteps(desc, steps);
  }
  return plan;
}

function elementKind(field: DescField): ValueKind | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return { kind: "scalar", scalar: field.scalar };
    case "enum":
      return { kind: "enum", desc: field.enum };
    case "message":
      return { kind: "message", desc: field.message };
    case "list":
      return field.listKind === "scalar"
        ? { kind: "scalar", scalar: field.scalar }
        : field.listKind === "enum"
          ? { kind: "enum", desc: field.enum }
          : { kind: "message", desc: field.message };
    case "map":
      return field.mapKind === "scalar"
        ? { kind: "scalar", scalar: field.scalar }
        : field.mapKind === "enum"
          ? { kind: "enum", desc: field.enum }
          : { kind: "message", desc: field.message };
  }
}

/** The check for a field's value as stored on the message (array, map object, value or undefined). */
function compileField(field: DescField): Check | undefined {
  const rules = fieldRules(field);
  const kind = elementKind(field)!;
  const unpack = { unpackAny: !OPAQUE_ANY_FIELDS.has(`${field.parent.typeName}.${field.name}`) };
  if (field.fieldKind === "list") {
    const r = rules?.type.case === "repeated" ? rules.type.value : undefined;
    const item = compileValueCheck(kind, r?.items, unpack);
    return compileRepeated(r, item, field.listKind === "message" ? field.message : undefined);
  }
  if (field.fieldKind === "map") {
    const r = rules?.type.case === "map" ? rules.type.value : undefined;
    const key = compileValueCheck({ kind: "scalar", scalar: field.mapKey }, r?.keys);
    const value = compileValueCheck(kind, r?.values, unpack);
    return compileMap(r, field.mapKey, key, value);
  }
  const check = compileValueCheck(kind, rules, unpack);
  if (field.fieldKind === "message" && !field.oneof) {
    const rule = requiredRule(rules);
    if (rule !== undefined) {
      return (v, ctx) => {
        if (v === undefined) report(ctx, rule, "value is required");
        else check?.(v, ctx);
      };
    }
  }
  return check;
}

function compileSteps(desc: DescMessage, steps: Step[]): void {
  // PGV checks plain fields in declaration order, then oneofs; Envoy reports the
  // first violation, so keeping this order makes our first one match.
  for (const field of desc.fields) {
    if (field.oneof !== undefined) continue;
    const check = compileField(field);
    if (check === undefined) continue;
    const local = field.localName;
    const name = field.name;
    // An unset proto3 `optional` scalar or message is undefined and PGV skips it;
    // only a required message's check needs to see it unset.
    const skipUnset = field.fieldKind !== "message" || requiredRule(fieldRules(field)) === undefined;
    steps.push((m, ctx) => {
      const v = m[local];
      if (v === undefined && skipUnset) return;
      ctx.path.push(name);
      check(v, ctx);
      ctx.path.pop();
    });
  }
  for (const oneof of desc.oneofs) {
    const required = oneofRequired(oneof);
    const members = new Map<string, { name: string; check: Check }>();
    for (const field of oneof.fields) {
      const check = compileField(field);
      if (check !== undefined) members.set(field.localName, { name: field.name, check });
    }
    if (!required && members.size === 0) continue;
    const local = oneof.localName;
    const name = oneof.name;
    // Envoy's wording for this one rule differs from the rest of PGV's.
    const requiredText = `field: "${name}", reason: is required`;
    steps.push((m, ctx) => {
      const o = m[local] as { case: string | undefined; value?: unknown };
      if (o.case === undefined) {
        if (required) {
          ctx.path.push(name);
          report(ctx, "oneof.required", requiredText);
          ctx.path.pop();
        }
        return;
      }
      const member = members.get(o.case);
      if (member === undefined) return;
      ctx.path.push(member.name);
      member.check(o.value, ctx);
      ctx.path.pop();
    });
  }
}
