// Every rule family on a synthetic message, built as a descriptor at run time
// so each rule can be tested in isolation (Envoy's protos use only some of them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, createFileRegistry, setExtension, type DescFile, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  anyPack,
  DurationSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldOptionsSchema,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  FileDescriptorProtoSchema,
  MessageOptionsSchema,
  OneofOptionsSchema,
  type FieldDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { disabled, FieldRulesSchema, file_validate_validate, KnownRegex, required, rules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { validateMessage } from "./validate-message.ts";

const T = FieldDescriptorProto_Type;
type RulesInit = MessageInitShape<typeof FieldRulesSchema>;

interface FieldSpec {
  type: FieldDescriptorProto_Type;
  typeName?: string;
  repeated?: boolean;
  optional?: boolean;
  oneof?: number;
  rules?: RulesInit;
}

const deps: Record<string, DescFile> = {
  "validate/validate.proto": file_validate_validate,
  "google/protobuf/any.proto": file_google_protobuf_any,
  "google/protobuf/duration.proto": file_google_protobuf_duration,
  "google/protobuf/timestamp.proto": file_google_protobuf_timestamp,
  "google/protobuf/wrappers.proto": file_google_protobuf_wrappers,
};

let counter = 0;

/**
 * A message `test.M` with the given fields (numbered in order), a `test.Inner`
 * with one rule, a `test.Off` whose rules are disabled, an enum `test.Color`
 * and a map entry `test.M.TagsEntry` (string -> Inner).
 */
function schema(fields: Record<string, FieldSpec>, oneofs: { name: string; required: boolean }[] = []): DescMessage {
  const pkg = `test${counter++}`;
  const field = (name: string, spec: FieldSpec, number: number): MessageInitShape<typeof FieldDescriptorProtoSchema> => {
    const options = create(FieldOptionsSchema);
    if (spec.rules) setExtension(options, rules, create(FieldRulesSchema, spec.rules));
    return {
      name,
      jsonName: name,
      number,
      type: spec.type,
      label: spec.repeated ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL,
      ...(spec.typeName ? { typeName: spec.typeName.replace("PKG", pkg) } : {}),
      ...(spec.oneof !== undefined ? { oneofIndex: spec.oneof } : {}),
      ...(spec.optional ? { proto3Optional: true, oneofIndex: oneofs.length } : {}),
      options,
    };
  };
  const specs = Object.entries(fields);
  const syntheticOneofs = specs.filter(([, s]) => s.optional).map(([n]) => ({ name: `_${n}` }));
  let syntheticIndex = oneofs.length;
  const file = create(FileDescriptorProtoSchema, {
    name: `${pkg}.proto`,
    package: pkg,
    syntax: "proto3",
    dependency: Object.keys(deps),
    enumType: [{ name: "Color", value: [{ name: "RED", number: 0 }, { name: "GREEN", number: 1 }, { name: "BLUE", number: 2 }] }],
    messageType: [
      {
        name: "M",
        field: specs.map(([name, spec], i) => field(name, spec.optional ? { ...spec, oneof: syntheticIndex++ } : spec, i + 1)),
        oneofDecl: [
          ...oneofs.map((o) => {
            const options = create(OneofOptionsSchema);
            if (o.required) setExtension(options, required, true);
            return { name: o.name, options };
          }),
          ...syntheticOneofs,
        ],
        nestedType: [
          {
            name: "TagsEntry",
            options: { mapEntry: true },
            field: [
              { name: "key", jsonName: "key", number: 1, type: T.STRING, label: FieldDescriptorProto_Label.OPTIONAL },
              { name: "value", jsonName: "value", number: 2, type: T.MESSAGE, typeName: `.${pkg}.Inner`, label: FieldDescriptorProto_Label.OPTIONAL },
            ],
          },
        ],
      },
      { name: "Inner", field: [field("id", { type: T.STRING, rules: { type: { case: "string", value: { minLen: 1n } } } }, 1)] },
      (() => {
        const options = create(MessageOptionsSchema);
        setExtension(options, disabled, true);
        return { name: "Off", options, field: [field("id", { type: T.STRING, rules: { type: { case: "string", value: { minLen: 1n } } } }, 1)] };
      })(),
    ],
  });
  const registry = createFileRegistry(file, (name) => deps[name]);
  return registry.getMessage(`${pkg}.M`)!;
}

/** Validates `init` against a one-field message and returns "path rule" strings. */
function one(spec: FieldSpec, value: unknown, options: { nowMs?: number } = {}): string[] {
  const desc = schema({ f: spec });
  const msg = create(desc, value === undefined ? {} : ({ f: value } as never));
  return validateMessage(desc, msg, { nowMs: options.nowMs ?? 0 }).map((v) => `${v.path} ${v.rule}`);
}

const str = (value: RulesInit["type"] & { case: "string" }): FieldSpec => ({ type: T.STRING, rules: { type: value } });
const s = (r: Record<string, unknown>): FieldSpec => str({ case: "string", value: r as never });

test("string lengths count runes, byte lengths count UTF-8", () => {
  assert.deepEqual(one(s({ len: 2n }), "😀é"), []);
  assert.deepEqual(one(s({ len: 2n }), "abc"), ["f string.len"]);
  assert.deepEqual(one(s({ minLen: 2n, maxLen: 3n }), "a"), ["f string.min_len"]);
  assert.deepEqual(one(s({ minLen: 2n, maxLen: 3n }), "abcd"), ["f string.max_len"]);
  assert.deepEqual(one(s({ maxBytes: 4n }), "😀"), []);
  assert.deepEqual(one(s({ maxBytes: 3n }), "😀"), ["f string.max_bytes"]);
  assert.deepEqual(one(s({ minBytes: 2n }), "é"), []);
  assert.deepEqual(one(s({ lenBytes: 1n }), "é"), ["f string.len_bytes"]);
});

test("string affixes, in, not_in, const, ignore_empty", () => {
  assert.deepEqual(one(s({ prefix: "/api" }), "/web"), ["f string.prefix"]);
  assert.deepEqual(one(s({ suffix: ".com" }), "a.org"), ["f string.suffix"]);
  assert.deepEqual(one(s({ contains: "::" }), "a:b"), ["f string.contains"]);
  assert.deepEqual(one(s({ notContains: ".." }), "a/../b"), ["f string.not_contains"]);
  assert.deepEqual(one(s({ in: ["a", "b"] }), "c"), ["f string.in"]);
  assert.deepEqual(one(s({ notIn: ["a", "b"] }), "a"), ["f string.not_in"]);
  assert.deepEqual(one(s({ const: "x" }), "y"), ["f string.const"]);
  // A set-but-empty const is still a rule (proto2 presence): "" is the only valid value.
  assert.deepEqual(one(s({ const: "" }), "y"), ["f string.const"]);
  assert.deepEqual(one(s({ minLen: 3n, ignoreEmpty: true }), ""), []);
  assert.deepEqual(one(s({ minLen: 3n, ignoreEmpty: true }), "ab"), ["f string.min_len"]);
});

test("string pattern is an RE2 full match, with (?i)", () => {
  assert.deepEqual(one(s({ pattern: "[a-z]+" }), "abc"), []);
  assert.deepEqual(one(s({ pattern: "[a-z]+" }), "abc1"), ["f string.pattern"]);
  assert.deepEqual(one(s({ pattern: "(?i)^ab+c$" }), "ABBC"), []);
  assert.deepEqual(one(s({ pattern: "^$|^.*\\.mmdb$" }), ""), []);
  assert.deepEqual(one(s({ pattern: "^$|^.*\\.mmdb$" }), "city.mmdbx"), ["f string.pattern"]);
});

test("string well-known formats", () => {
  const wk = (c: string) => s({ wellKnown: { case: c, value: true } });
  assert.deepEqual(one(wk("hostname"), "api.example.com."), []);
  assert.deepEqual(one(wk("hostname"), "-bad.example.com"), ["f string.hostname"]);
  assert.deepEqual(one(wk("hostname"), "a".repeat(64) + ".com"), ["f string.hostname"]);
  assert.deepEqual(one(wk("ip"), "::1"), []);
  assert.deepEqual(one(wk("ip"), "1.2.3"), ["f string.ip"]);
  assert.deepEqual(one(wk("ipv4"), "10.0.0.1"), []);
  assert.deepEqual(one(wk("ipv4"), "::1"), ["f string.ipv4"]);
  assert.deepEqual(one(wk("ipv6"), "fe80::1"), []);
  assert.deepEqual(one(wk("ipv6"), "fe80::1%eth0"), ["f string.ipv6"]);
  assert.deepEqual(one(wk("address"), "10.0.0.1"), []);
  assert.deepEqual(one(wk("address"), "db.internal"), []);
  assert.deepEqual(one(wk("address"), "db internal"), ["f string.address"]);
  assert.deepEqual(one(wk("uuid"), "123e4567-e89b-12d3-a456-426614174000"), []);
  assert.deepEqual(one(wk("uuid"), "123e4567e89b12d3a456426614174000"), ["f string.uuid"]);
  assert.deepEqual(one(wk("uri"), "https://example.com/a?b=c#d"), []);
  assert.deepEqual(one(wk("uri"), "/relative/path"), ["f string.uri"]);
  assert.deepEqual(one(wk("uriRef"), "/relative/path"), []);
  assert.deepEqual(one(wk("uriRef"), "has space"), ["f string.uri_ref"]);
});

test("HTTP header regexes, strict and loose", () => {
  const hdr = (r: KnownRegex, strict?: boolean) => s({ wellKnown: { case: "wellKnownRegex", value: r }, ...(strict === undefined ? {} : { strict }) });
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_NAME), ":authority"), []);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_NAME), "x-b3-traceid"), []);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_NAME), "bad header"), ["f string.well_known_regex.header_name"]);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_NAME), ""), ["f string.well_known_regex.header_name"]);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_NAME, false), "bad header"), []);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_NAME, false), "bad\rheader"), ["f string.well_known_regex.header_name"]);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_VALUE), "text/html; q=0.9\t"), []);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_VALUE), "a\u0001b"), ["f string.well_known_regex.header_value"]);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_VALUE, false), "a\u0001b"), []);
  assert.deepEqual(one(hdr(KnownRegex.HTTP_HEADER_VALUE, false), "a\nb"), ["f string.well_known_regex.header_value"]);
});

test("bytes rules", () => {
  const b = (r: Record<string, unknown>): FieldSpec => ({ type: T.BYTES, rules: { type: { case: "bytes", value: r as never } } });
  assert.deepEqual(one(b({ minLen: 2n }), new Uint8Array([1])), ["f bytes.min_len"]);
  assert.deepEqual(one(b({ prefix: new Uint8Array([9]) }), new Uint8Array([9, 1])), []);
  assert.deepEqual(one(b({ prefix: new Uint8Array([9]) }), new Uint8Array([1, 9])), ["f bytes.prefix"]);
  assert.deepEqual(one(b({ wellKnown: { case: "ipv4", value: true } }), new Uint8Array(16)), ["f bytes.ipv4"]);
  assert.deepEqual(one(b({ in: [new Uint8Array([1, 2])] }), new Uint8Array([1, 2])), []);
  assert.deepEqual(one(b({ in: [new Uint8Array([1, 2])] }), new Uint8Array([2, 1])), ["f bytes.in"]);
});

test("numeric rules: ranges, exclusive ranges, const, in, 64-bit values", () => {
  const n = (type: FieldDescriptorProto_Type, family: string, r: Record<string, unknown>): FieldSpec => ({ type, rules: { type: { case: family, value: r } as never } });
  assert.deepEqual(one(n(T.UINT32, "uint32", { gt: 0 }), 0), ["f uint32.gt"]);
  assert.deepEqual(one(n(T.UINT32, "uint32", { gte: 1, lte: 10 }), 11), ["f uint32.gte_lte"]);
  assert.deepEqual(one(n(T.UINT32, "uint32", { gte: 1, lte: 10 }), 10), []);
  assert.deepEqual(one(n(T.INT32, "int32", { lt: 0, gt: 10 }), 5), ["f int32.gt_lt_exclusive"]);
  assert.deepEqual(one(n(T.INT32, "int32", { lt: 0, gt: 10 }), 11), []);
  assert.deepEqual(one(n(T.INT64, "int64", { gt: 0n }), 0n), ["f int64.gt"]);
  assert.deepEqual(one(n(T.UINT64, "uint64", { lte: 18446744073709551615n }), 18446744073709551615n), []);
  assert.deepEqual(one(n(T.DOUBLE, "double", { gte: 0, lte: 1 }), 1.5), ["f double.gte_lte"]);
  assert.deepEqual(one(n(T.FLOAT, "float", { gt: 0 }), 0.5), []);
  assert.deepEqual(one(n(T.SINT32, "sint32", { const: -3 }), -2), ["f sint32.const"]);
  assert.deepEqual(one(n(T.FIXED64, "fixed64", { in: [1n, 2n] }), 3n), ["f fixed64.in"]);
  assert.deepEqual(one(n(T.SFIXED32, "sfixed32", { notIn: [0] }), 0), ["f sfixed32.not_in"]);
  // A rule on a proto3 scalar applies to its zero value too, as in Envoy.
  assert.deepEqual(one(n(T.UINT32, "uint32", { gt: 0 }), undefined), ["f uint32.gt"]);
});

test("numeric rules on wrapper fields apply only when the wrapper is set", () => {
  const w: FieldSpec = { type: T.MESSAGE, typeName: ".google.protobuf.UInt32Value", rules: { type: { case: "uint32", value: { gte: 2 } } } };
  assert.deepEqual(one(w, undefined), []);
  assert.deepEqual(one(w, 1), ["f uint32.gte"]);
  assert.deepEqual(one(w, 2), []);
  const req: FieldSpec = { ...w, rules: { message: { required: true }, type: { case: "uint32", value: { gte: 2 } } } };
  assert.deepEqual(one(req, undefined), ["f message.required"]);
});

test("proto3 optional scalars are checked only when set", () => {
  const o: FieldSpec = { type: T.STRING, optional: true, rules: { type: { case: "string", value: { minLen: 1n } } } };
  assert.deepEqual(one(o, undefined), []);
  assert.deepEqual(one(o, ""), ["f string.min_len"]);
});

test("bool and enum rules", () => {
  assert.deepEqual(one({ type: T.BOOL, rules: { type: { case: "bool", value: { const: true } } } }, false), ["f bool.const"]);
  const e = (r: Record<string, unknown>): FieldSpec => ({ type: T.ENUM, typeName: ".PKG.Color", rules: { type: { case: "enum", value: r as never } } });
  assert.deepEqual(one(e({ definedOnly: true }), 2), []);
  assert.deepEqual(one(e({ definedOnly: true }), 7), ["f enum.defined_only"]);
  assert.deepEqual(one(e({ in: [1, 2] }), 0), ["f enum.in"]);
  assert.deepEqual(one(e({ notIn: [0] }), 0), ["f enum.not_in"]);
  assert.deepEqual(one(e({ const: 1 }), 2), ["f enum.const"]);
});

test("repeated rules: counts, unique, item rules, ignore_empty", () => {
  const r = (rep: Record<string, unknown>, type = T.STRING): FieldSpec => ({ type, repeated: true, rules: { type: { case: "repeated", value: rep as never } } });
  assert.deepEqual(one(r({ minItems: 1n }), []), ["f repeated.min_items"]);
  assert.deepEqual(one(r({ maxItems: 1n }), ["a", "b"]), ["f repeated.max_items"]);
  assert.deepEqual(one(r({ minItems: 2n, maxItems: 2n }), ["a"]), ["f repeated.min_items"]);
  assert.deepEqual(one(r({ unique: true }), ["a", "b", "a"]), ["f[2] repeated.unique"]);
  assert.deepEqual(one(r({ items: { type: { case: "string", value: { minLen: 1n } } } }), ["a", "", "b", ""]), ["f[1] string.min_len", "f[3] string.min_len"]);
  assert.deepEqual(one(r({ minItems: 2n, ignoreEmpty: true }), []), []);
  assert.deepEqual(one(r({ minItems: 2n, ignoreEmpty: true }), ["a"]), ["f repeated.min_items"]);
  const msgs: FieldSpec = { type: T.MESSAGE, typeName: ".PKG.Inner", repeated: true, rules: { type: { case: "repeated", value: { unique: true } } } };
  assert.deepEqual(one(msgs, [{ id: "a" }, { id: "" }, { id: "a" }]), ["f[2] repeated.unique", "f[1].id string.min_len"]);
});

test("map rules: pair counts, key and value rules, values are validated", () => {
  const m = (mapRules?: Record<string, unknown>): FieldSpec => ({
    type: T.MESSAGE,
    typeName: ".PKG.M.TagsEntry",
    repeated: true,
    ...(mapRules ? { rules: { type: { case: "map", value: mapRules as never } } } : {}),
  });
  assert.deepEqual(one(m({ minPairs: 1n }), {}), ["f map.min_pairs"]);
  assert.deepEqual(one(m({ maxPairs: 1n }), { a: { id: "x" }, b: { id: "y" } }), ["f map.max_pairs"]);
  assert.deepEqual(one(m({ keys: { type: { case: "string", value: { minLen: 2n } } } }), { a: { id: "x" }, bb: { id: "y" } }), ['f["a"] string.min_len']);
  assert.deepEqual(one(m(), { a: { id: "" } }), ['f["a"].id string.min_len']);
  assert.deepEqual(one(m({ ignoreEmpty: true, minPairs: 2n }), {}), []);
});

test("message rules: required, skip, disabled messages, oneof required", () => {
  const inner = (r?: RulesInit): FieldSpec => ({ type: T.MESSAGE, typeName: ".PKG.Inner", ...(r ? { rules: r } : {}) });
  assert.deepEqual(one(inner({ message: { required: true } }), undefined), ["f message.required"]);
  assert.deepEqual(one(inner(), { id: "" }), ["f.id string.min_len"]);
  assert.deepEqual(one(inner({ message: { skip: true } }), { id: "" }), []);
  assert.deepEqual(one({ type: T.MESSAGE, typeName: ".PKG.Off" }, { id: "" }), []);
  const desc = schema(
    {
      a: { type: T.STRING, oneof: 0, rules: { type: { case: "string", value: { minLen: 2n } } } },
      b: { type: T.MESSAGE, typeName: ".PKG.Inner", oneof: 0 },
    },
    [{ name: "choice", required: true }],
  );
  const run = (init: unknown) => validateMessage(desc, create(desc, init as never)).map((v) => `${v.path} ${v.rule} ${v.message}`);
  assert.deepEqual(run({}), ['choice oneof.required field: "choice", reason: is required']);
  assert.deepEqual(run({ choice: { case: "a", value: "x" } }), ["a string.min_len value length must be at least 2 characters"]);
  assert.deepEqual(run({ choice: { case: "b", value: { id: "" } } }), ["b.id string.min_len value length must be at least 1 characters"]);
  assert.deepEqual(run({ choice: { case: "a", value: "xy" } }), []);
});

test("any rules: required, in, not_in, and unpacked contents", () => {
  const a = (r?: Record<string, unknown>): FieldSpec => ({ type: T.MESSAGE, typeName: ".google.protobuf.Any", ...(r ? { rules: { type: { case: "any", value: r as never } } } : {}) });
  const dur = anyPack(DurationSchema, create(DurationSchema, { seconds: 1n }));
  assert.deepEqual(one(a({ required: true }), undefined), ["f any.required"]);
  assert.deepEqual(one(a({ in: ["type.googleapis.com/google.protobuf.Duration"] }), dur), []);
  assert.deepEqual(one(a({ in: ["type.googleapis.com/google.protobuf.Struct"] }), dur), ["f any.in"]);
  assert.deepEqual(one(a({ notIn: ["type.googleapis.com/google.protobuf.Duration"] }), dur), ["f any.not_in"]);
  assert.deepEqual(one(a(), { typeUrl: "type.googleapis.com/nope.Nope", value: new Uint8Array() }), ["f any.type_url"]);
  assert.deepEqual(one(a(), { typeUrl: "type.googleapis.com/google.protobuf.Duration", value: new Uint8Array([0xff]) }), ["f any.value"]);
});

test("duration rules", () => {
  const d = (r: Record<string, unknown>): FieldSpec => ({ type: T.MESSAGE, typeName: ".google.protobuf.Duration", rules: { type: { case: "duration", value: r as never } } });
  const sec = (seconds: number, nanos = 0) => ({ seconds: BigInt(seconds), nanos });
  assert.deepEqual(one(d({ required: true }), undefined), ["f duration.required"]);
  assert.deepEqual(one(d({ gt: {} }), undefined), []);
  assert.deepEqual(one(d({ gt: {} }), sec(0)), ["f duration.gt"]);
  assert.deepEqual(one(d({ gt: {} }), sec(0, 1)), []);
  assert.deepEqual(one(d({ gte: sec(1), lt: sec(2) }), sec(2)), ["f duration.gte_lt"]);
  assert.deepEqual(one(d({ const: sec(5) }), sec(5, 1)), ["f duration.const"]);
  assert.deepEqual(one(d({ in: [sec(1), sec(2)] }), sec(3)), ["f duration.in"]);
  assert.deepEqual(one(d({ notIn: [sec(1)] }), sec(1)), ["f duration.not_in"]);
  // Beyond ~104 days nanoseconds leave the exact double range and are compared as bigints.
  assert.deepEqual(one(d({ lte: sec(10_000_000_000) }), sec(10_000_000_000, 1)), ["f duration.lte"]);
  assert.deepEqual(one(d({ lte: sec(10_000_000_000) }), sec(10_000_000_000)), []);
  assert.deepEqual(one(d({ gt: sec(1) }), sec(10_000_000_000)), []);
  assert.deepEqual(one(d({ const: sec(10_000_000_000, 5) }), sec(10_000_000_000, 5)), []);
  const desc = schema({ f: d({ lte: sec(1, 500_000_000) }) });
  assert.deepEqual(
    validateMessage(desc, create(desc, { f: sec(2) } as never)).map((v) => v.message),
    ["value must be less than or equal to 1.5s"],
  );
});

test("timestamp rules, against a fixed clock", () => {
  const ts = (r: Record<string, unknown>): FieldSpec => ({ type: T.MESSAGE, typeName: ".google.protobuf.Timestamp", rules: { type: { case: "timestamp", value: r as never } } });
  const at = (seconds: number) => ({ seconds: BigInt(seconds), nanos: 0 });
  const nowMs = 1_000_000_000;
  assert.deepEqual(one(ts({ ltNow: true }), at(999_999), { nowMs }), []);
  assert.deepEqual(one(ts({ ltNow: true }), at(1_000_001), { nowMs }), ["f timestamp.lt_now"]);
  assert.deepEqual(one(ts({ gtNow: true }), at(999_999), { nowMs }), ["f timestamp.gt_now"]);
  assert.deepEqual(one(ts({ within: { seconds: 10n } }), at(1_000_005), { nowMs }), []);
  assert.deepEqual(one(ts({ within: { seconds: 10n } }), at(1_000_011), { nowMs }), ["f timestamp.within"]);
  assert.deepEqual(one(ts({ gt: at(5) }), at(5)), ["f timestamp.gt"]);
});
