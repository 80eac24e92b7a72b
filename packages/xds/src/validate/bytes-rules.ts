import { type BytesRules, BytesRulesSchema } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { allOf, type Check, report } from "./check-context.ts";
import { type LengthBound, lengthCheck } from "./length-rules.ts";
import { patternOrWarn } from "./string-rules.ts";
import { hasRule } from "./rule-presence.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytesLength = (b: Uint8Array): number => b.length;

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length).indexOf(needle);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function predicate(rule: string, text: string, ok: (b: Uint8Array) => boolean): Check {
  return (v, ctx) => {
    if (!ok(v as Uint8Array)) report(ctx, rule, text);
  };
}

/** BytesRules: const, in, lengths, pattern (on the UTF-8 text), affixes, ip/ipv4/ipv6 (4 or 16 raw bytes). */
export function compileBytesRules(r: BytesRules): Check | undefined {
  const has = (name: string): boolean => hasRule(BytesRulesSchema, r, name);
  const checks: (Check | undefined)[] = [];
  if (has("const")) {
    const want = r.const;
    checks.push(predicate("bytes.const", `value must equal 0x${hex(want)}`, (b) => equalBytes(b, want)));
  }
  if (r.in.length > 0) {
    const set = new Set(r.in.map(hex));
    checks.push(predicate("bytes.in", `value must be in list [${r.in.map(hex).join(" ")}]`, (b) => set.has(hex(b))));
  }
  if (r.notIn.length > 0) {
    const set = new Set(r.notIn.map(hex));
    checks.push(predicate("bytes.not_in", `value must not be in list [${r.notIn.map(hex).join(" ")}]`, (b) => !set.has(hex(b))));
  }
  const bound = (name: "len" | "minLen" | "maxLen", rule: string): LengthBound | undefined =>
    has(name) ? { rule, n: Number(r[name]) } : undefined;
  checks.push(
    lengthCheck("bytes", bytesLength, { exact: bound("len", "bytes.len"), min: bound("minLen", "bytes.min_len"), max: bound("maxLen", "bytes.max_len") }),
  );
  if (has("pattern")) {
    const re = patternOrWarn(r.pattern);
    const decoder = new TextDecoder("utf-8", { fatal: false });
    if (re !== undefined) checks.push(predicate("bytes.pattern", `value does not match regex pattern ${JSON.stringify(r.pattern)}`, (b) => re.test(decoder.decode(b))));
  }
  if (has("prefix")) {
    const p = r.prefix;
    checks.push(predicate("bytes.prefix", `value does not have prefix 0x${hex(p)}`, (b) => b.length >= p.length && equalBytes(b.subarray(0, p.length), p)));
  }
  if (has("suffix")) {
    const p = r.suffix;
    checks.push(predicate("bytes.suffix", `value does not have suffix 0x${hex(p)}`, (b) => b.length >= p.length && equalBytes(b.subarray(b.length - p.length), p)));
  }
  if (has("contains")) {
    const p = r.contains;
    checks.push(predicate("bytes.contains", `value does not contain 0x${hex(p)}`, (b) => indexOf(b, p) >= 0));
  }
  const w = r.wellKnown;
  if (w.case === "ip" && w.value) checks.push(predicate("bytes.ip", "value must be a valid IP address", (b) => b.length === 4 || b.length === 16));
  if (w.case === "ipv4" && w.value) checks.push(predicate("bytes.ipv4", "value must be a valid IPv4 address", (b) => b.length === 4));
  if (w.case === "ipv6" && w.value) checks.push(predicate("bytes.ipv6", "value must be a valid IPv6 address", (b) => b.length === 16));
  const check = allOf(checks);
  if (check === undefined || !r.ignoreEmpty) return check;
  return (v, ctx) => {
    if ((v as Uint8Array).length > 0) check(v, ctx);
  };
}
