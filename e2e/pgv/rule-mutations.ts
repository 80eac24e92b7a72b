// Derives, from the validate.rules of a valid resource's fields, mutations that
// each break exactly one rule: the mutation oracle then asks Envoy about each.
// Works on protobuf-es messages in place (apply, look, undo), descending into
// sub-messages, the first items of lists and maps, oneofs and Any contents
// (repacked after each change).
import { create, fromBinary, toBinary, type DescField, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { type Any, DurationSchema } from "@bufbuild/protobuf/wkt";
import { type FieldRules, FieldRulesSchema, KnownRegex } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { OPAQUE_ANY_FIELDS, fieldRules, hasRule, oneofRequired } from "@ts-control-plane/xds/testing";

export interface Mutation {
  /** Where the broken rule sits, as validateMessage names paths. */
  readonly path: string;
  /** What was done, e.g. 'string.min_len: ""'. */
  readonly what: string;
  /** The rule's home, "message type.field", to skip repeats of one rule at several places. */
  readonly site: string;
  apply(): void;
  undo(): void;
}

type Obj = Record<string, unknown>;
type Hook = () => void;

const WRAPPER = /^google\.protobuf\.(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value$/;
const UINT32_MAX = 4294967295;

/** The bounds a numeric rules message sets (proto2: unset bounds read as 0, so ask presence). */
function present(family: string, rules: Message): Record<string, unknown> {
  const desc = FieldRulesSchema.field[family as keyof typeof FieldRulesSchema.field]?.message;
  const out: Record<string, unknown> = {};
  if (desc === undefined) return out;
  for (const bound of ["lt", "lte", "gt", "gte"]) {
    if (hasRule(desc, rules, bound)) out[bound] = (rules as unknown as Record<string, unknown>)[bound];
  }
  return out;
}

/** Values that break one rule each, for a scalar value under `rules`. */
function badScalars(rules: FieldRules): { what: string; value: unknown }[] {
  const t = rules.type;
  const out: { what: string; value: unknown }[] = [];
  switch (t.case) {
    case "string": {
      const r = t.value;
      if (r.minLen > 0n) out.push({ what: 'string.min_len: ""', value: "" });
      if (r.maxBytes > 0n && r.maxBytes < 100_000n) out.push({ what: "string.max_bytes", value: "x".repeat(Number(r.maxBytes) + 1) });
      if (r.maxLen > 0n && r.maxLen < 100_000n) out.push({ what: "string.max_len", value: "x".repeat(Number(r.maxLen) + 1) });
      if (r.in.length > 0) out.push({ what: "string.in", value: "not-in-the-list" });
      if (r.wellKnown.case === "wellKnownRegex") {
        const name = r.wellKnown.value === KnownRegex.HTTP_HEADER_NAME;
        out.push({ what: `header ${name ? "name" : "value"} (${r.strict ? "strict" : "loose"})`, value: r.strict ? (name ? "bad name" : "bad\u0001value") : "bad\nline" });
      }
      return out;
    }
    case "enum":
      if (t.value.definedOnly) out.push({ what: "enum.defined_only: 12345", value: 12345 });
      return out;
    case "bool":
      if (hasRule(FieldRulesSchema.field["bool"]!.message!, t.value, "const") && t.value.const) out.push({ what: "bool.const: false", value: false });
      return out;
    case "uint32":
    case "int32":
    case "double":
    case "float": {
      const r = present(t.case, t.value) as { lt?: number; lte?: number; gt?: number; gte?: number };
      const unsigned = t.case === "uint32";
      const push = (what: string, v: number): void => {
        if ((unsigned && v < 0) || v > UINT32_MAX) return;
        out.push({ what: `${t.case}.${what}: ${v}`, value: v });
      };
      if (r.lte !== undefined && r.lte !== 0) push("lte", r.lte + 1);
      if (r.lt !== undefined && r.lt !== 0) push("lt", r.lt);
      if (r.gt !== undefined) push("gt", r.gt);
      if (r.gte !== undefined && r.gte !== 0) push("gte", r.gte - 1);
      return out;
    }
    case "uint64":
    case "int64": {
      const r = present(t.case, t.value) as { lt?: bigint; lte?: bigint; gt?: bigint; gte?: bigint };
      if (r.lte !== undefined && r.lte !== 0n) out.push({ what: `${t.case}.lte`, value: r.lte + 1n });
      if (r.gt !== undefined) out.push({ what: `${t.case}.gt`, value: r.gt });
      if (r.gte !== undefined && r.gte > 0n) out.push({ what: `${t.case}.gte`, value: r.gte - 1n });
      return out;
    }
    default:
      return out;
  }
}

/** A mutation that sets `obj[key]` (or deletes it when value is undefined), then runs the repack hook. */
function setter(obj: Obj, key: string, value: unknown, after: Hook, restore: Hook): { apply: Hook; undo: Hook } {
  const had = Object.hasOwn(obj, key);
  const old = obj[key];
  return {
    apply: () => {
      if (value === undefined) delete obj[key];
      else obj[key] = value;
      after();
    },
    undo: () => {
      if (had) obj[key] = old;
      else delete obj[key];
      restore();
    },
  };
}

const siteOf = (field: DescField): string => `${field.parent.typeName}.${field.name}`;

export function ruleMutations(desc: DescMessage, message: Message, registry: Registry): Mutation[] {
  const out: Mutation[] = [];
  walk(desc, message as unknown as Obj, "", out, registry, () => {}, () => {});
  return out;
}

function walk(desc: DescMessage, obj: Obj, path: string, out: Mutation[], registry: Registry, after: Hook, restore: Hook): void {
  const at = (name: string): string => (path === "" ? name : `${path}.${name}`);
  for (const field of desc.fields) {
    const rules = fieldRules(field);
    const p = at(field.name);
    if (field.oneof !== undefined) continue;
    const value = obj[field.localName];
    if (field.fieldKind === "scalar" || field.fieldKind === "enum") {
      if (rules === undefined || value === undefined) continue;
      for (const bad of badScalars(rules)) out.push({ path: p, what: bad.what, site: siteOf(field), ...setter(obj, field.localName, bad.value, after, restore) });
      continue;
    }
    if (field.fieldKind === "message") {
      mutateMessageField(field, rules, obj, field.localName, value, p, out, registry, after, restore);
      continue;
    }
    if (field.fieldKind === "list") {
      const list = value as unknown[];
      const r = rules?.type.case === "repeated" ? rules.type.value : undefined;
      if (r !== undefined && r.minItems > 0n && list.length > 0) out.push({ path: p, what: "repeated.min_items: []", site: siteOf(field), ...setter(obj, field.localName, [], after, restore) });
      if (r !== undefined && r.maxItems > 0n && r.maxItems <= 20n && list.length > 0) {
        const many = Array.from({ length: Number(r.maxItems) + 1 }, () => list[0]);
        out.push({ path: p, what: `repeated.max_items: ${many.length} items`, site: siteOf(field), ...setter(obj, field.localName, many, after, restore) });
      }
      if (field.listKind === "message") {
        for (const [i, item] of list.slice(0, 2).entries()) descend(field.message, item as Obj, `${p}[${i}]`, out, registry, after, restore, field);
      } else if (r?.items !== undefined && list.length > 0) {
        for (const bad of badScalars(r.items)) {
          const changed = [...list];
          changed[0] = bad.value;
          out.push({ path: `${p}[0]`, what: bad.what, site: siteOf(field), ...setter(obj, field.localName, changed, after, restore) });
        }
      }
      continue;
    }
    if (field.fieldKind === "map" && field.mapKind === "message") {
      const first = Object.keys(value as Obj).sort()[0];
      if (first !== undefined) descend(field.message, (value as Obj)[first] as Obj, `${p}[${JSON.stringify(first)}]`, out, registry, after, restore, field);
    }
  }
  for (const oneof of desc.oneofs) {
    const o = obj[oneof.localName] as { case: string | undefined; value?: unknown };
    if (o.case === undefined) continue;
    if (oneofRequired(oneof)) out.push({ path: at(oneof.name), what: "oneof.required: unset", site: `${desc.typeName}.${oneof.name}`, ...setter(obj, oneof.localName, { case: undefined }, after, restore) });
    const member = oneof.fields.find((f) => f.localName === o.case);
    if (member === undefined) continue;
    const p = at(member.name);
    const rules = fieldRules(member);
    const replace = (value: unknown) => setter(obj, oneof.localName, { case: o.case, value }, after, restore);
    if (member.fieldKind === "scalar" || member.fieldKind === "enum") {
      if (rules !== undefined) for (const bad of badScalars(rules)) out.push({ path: p, what: bad.what, site: siteOf(member), ...replace(bad.value) });
    } else if (member.fieldKind === "message") {
      descend(member.message, o.value as Obj, p, out, registry, after, restore, member);
    }
  }
}

/** A singular message field: required (unset it), wrapper and duration rules, then its contents. */
function mutateMessageField(
  field: DescField & { fieldKind: "message" },
  rules: FieldRules | undefined,
  obj: Obj,
  key: string,
  value: unknown,
  p: string,
  out: Mutation[],
  registry: Registry,
  after: Hook,
  restore: Hook,
): void {
  if (value === undefined) return;
  const t = rules?.type;
  if (rules?.message?.required === true || (t?.case === "duration" && t.value.required)) {
    out.push({ path: p, what: "required: unset", site: siteOf(field), ...setter(obj, key, undefined, after, restore) });
  }
  if (WRAPPER.test(field.message.typeName)) {
    if (rules !== undefined) for (const bad of badScalars(rules)) out.push({ path: p, what: bad.what, site: siteOf(field), ...setter(obj, key, bad.value, after, restore) });
    return;
  }
  if (field.message.typeName === "google.protobuf.Duration") {
    if (t?.case === "duration" && t.value.gt !== undefined && t.value.gt.seconds === 0n && t.value.gt.nanos === 0) {
      out.push({ path: p, what: "duration.gt: 0s", site: siteOf(field), ...setter(obj, key, create(DurationSchema, {}), after, restore) });
    }
    return;
  }
  descend(field.message, value as Obj, p, out, registry, after, restore, field);
}

/** Into a present message; an Any is unpacked, and repacked after every change inside it. */
function descend(desc: DescMessage, obj: Obj, p: string, out: Mutation[], registry: Registry, after: Hook, restore: Hook, field: DescField): void {
  if (desc.typeName === "google.protobuf.Any") {
    if (OPAQUE_ANY_FIELDS.has(`${field.parent.typeName}.${field.name}`)) return;
    const any = obj as unknown as Any;
    const inner = registry.getMessage(any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1));
    if (inner === undefined) return;
    const original = any.value;
    const msg = fromBinary(inner, original);
    walk(
      inner,
      msg as unknown as Obj,
      p,
      out,
      registry,
      () => {
        any.value = toBinary(inner, msg);
        after();
      },
      () => {
        any.value = original;
        restore();
      },
    );
    return;
  }
  if (desc.typeName.startsWith("google.protobuf.")) return;
  walk(desc, obj, p, out, registry, after, restore);
}
