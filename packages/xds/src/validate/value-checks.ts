import type { DescEnum, DescMessage, ScalarType } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import * as v from "@ts-control-plane/envoy-api/validate/validate_pb";
import type { FieldRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { compileAnyRules, validateAnyContents } from "./any-rules.ts";
import { compileBoolRules } from "./bool-rules.ts";
import { compileBytesRules } from "./bytes-rules.ts";
import { allOf, type Check } from "./check-context.ts";
import { compileEnumRules } from "./enum-rules.ts";
import { compileNumericRules } from "./numeric-rules.ts";
import { isOpaqueWellKnown, mayHaveRules } from "./rule-options.ts";
import { compileStringRules } from "./string-rules.ts";
import { compileDurationRules, compileTimestampRules } from "./time-rules.ts";

/** What one value is: a scalar, an enum number, or a message. */
export type ValueKind =
  | { readonly kind: "scalar"; readonly scalar: ScalarType }
  | { readonly kind: "enum"; readonly desc: DescEnum }
  | { readonly kind: "message"; readonly desc: DescMessage };

type RuleCase = FieldRules["type"];

const NUMERIC_SCHEMAS = {
  float: v.FloatRulesSchema,
  double: v.DoubleRulesSchema,
  int32: v.Int32RulesSchema,
  int64: v.Int64RulesSchema,
  uint32: v.UInt32RulesSchema,
  uint64: v.UInt64RulesSchema,
  sint32: v.SInt32RulesSchema,
  sint64: v.SInt64RulesSchema,
  fixed32: v.Fixed32RulesSchema,
  fixed64: v.Fixed64RulesSchema,
  sfixed32: v.SFixed32RulesSchema,
  sfixed64: v.SFixed64RulesSchema,
} as const;

/** Rules for a scalar value (also the value inside a wrapper message). */
export function compileScalarRules(t: RuleCase): Check | undefined {
  switch (t.case) {
    case "string":
      return compileStringRules(t.value);
    case "bytes":
      return compileBytesRules(t.value);
    case "bool":
      return compileBoolRules(t.value);
    case "float":
    case "double":
    case "int32":
    case "int64":
    case "uint32":
    case "uint64":
    case "sint32":
    case "sint64":
    case "fixed32":
    case "fixed64":
    case "sfixed32":
    case "sfixed64":
      return compileNumericRules(t.case, NUMERIC_SCHEMAS[t.case], t.value);
    default:
      return undefined;
  }
}

const WRAPPERS = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map((t) => `google.protobuf.${t}Value`),
);
const isWrapperName = (name: string): boolean => WRAPPERS.has(name);

/**
 * The checks for one present value of a kind, under its field's rules; for
 * messages this includes descending into them. Undefined when nothing can be
 * wrong with such a value, so the caller skips it entirely.
 */
export function compileValueCheck(kind: ValueKind, rules: FieldRules | undefined, options: { unpackAny: boolean } = { unpackAny: true }): Check | undefined {
  const t: RuleCase = rules?.type ?? { case: undefined };
  if (kind.kind === "scalar") return compileScalarRules(t);
  if (kind.kind === "enum") return t.case === "enum" ? compileEnumRules(kind.desc, t.value) : undefined;
  const desc = kind.desc;
  const name = desc.typeName;
  if (isWrapperName(name)) {
    const inner = compileScalarRules(t);
    if (inner === undefined) return undefined;
    // Singular wrapper fields arrive unboxed; in oneofs and lists they stay messages.
    return (value, ctx) => inner(typeof value === "object" && value !== null ? (value as { value: unknown }).value : value, ctx);
  }
  if (name === "google.protobuf.Duration") return t.case === "duration" ? compileDurationRules(t.value) : undefined;
  if (name === "google.protobuf.Timestamp") return t.case === "timestamp" ? compileTimestampRules(t.value) : undefined;
  if (rules?.message?.skip === true) return undefined;
  if (name === "google.protobuf.Any") {
    const own = t.case === "any" ? compileAnyRules(t.value) : undefined;
    if (!options.unpackAny) return own;
    return allOf([own, (value, ctx) => validateAnyContents(value as Any, ctx)]);
  }
  if (isOpaqueWellKnown(desc) || !mayHaveRules(desc)) return undefined;
  return (value, ctx) => ctx.validateNested(desc, value, ctx);
}

/** The rule a singular message field breaks when unset, if any. */
export function requiredRule(rules: FieldRules | undefined): string | undefined {
  if (rules === undefined) return undefined;
  if (rules.message?.required) return "message.required";
  const t = rules.type;
  if ((t.case === "duration" || t.case === "timestamp" || t.case === "any") && t.value.required) return `${t.case}.required`;
  return undefined;
}

