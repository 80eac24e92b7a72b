import { type StringRules, StringRulesSchema, KnownRegex } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { allOf, type Check, report } from "./check-context.ts";
import { showList } from "./numeric-rules.ts";
import { re2RegExp } from "./re2-regexp.ts";
import { type LengthBound, lengthCheck } from "./length-rules.ts";
import { hasRule } from "./rule-presence.ts";
import * as known from "./well-known-strings.ts";

/** Length in Unicode code points: PGV counts runes, not UTF-16 units. */
export function runeCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");
const quote = (s: string): string => JSON.stringify(s);

function predicate(rule: string, text: string, ok: (s: string) => boolean): Check {
  return (v, ctx) => {
    if (!ok(v as string)) report(ctx, rule, text);
  };
}

function wellKnown(r: StringRules): Check | undefined {
  const w = r.wellKnown;
  switch (w.case) {
    case undefined:
      return undefined;
    case "wellKnownRegex": {
      if (w.value === KnownRegex.UNKNOWN) return undefined;
      const name = w.value === KnownRegex.HTTP_HEADER_NAME;
      const rule = name ? "string.well_known_regex.header_name" : "string.well_known_regex.header_value";
      const ok = r.strict ? (name ? known.isHeaderNameStrict : known.isHeaderValueStrict) : known.isHeaderLoose;
      const shown = r.strict ? (name ? known.HEADER_NAME_PATTERN : known.HEADER_VALUE_PATTERN) : known.HEADER_LOOSE_PATTERN;
      // Envoy names PGV's regex in its message; so do we, so both read the same.
      return predicate(rule, `value does not match regex pattern "${shown}"`, ok);
    }
  }
  if (w.value !== true) return undefined;
  switch (w.case) {
    case "hostname":
      return predicate("string.hostname", "value must be a valid hostname", known.isHostname);
    case "ip":
      return predicate("string.ip", "value must be a valid IP Address", known.isIp);
    case "ipv4":
      return predicate("string.ipv4", "value must be a valid IPv4 Address", known.isIpv4);
    case "ipv6":
      return predicate("string.ipv6", "value must be a valid IPv6 Address", known.isIpv6);
    case "address":
      return predicate("string.address", "value must be an ip address, or a hostname.", (s) => known.isHostname(s) || known.isIp(s));
    case "uuid":
      return predicate("string.uuid", "value must be a valid UUID", known.isUuid);
    case "uri":
      return predicate("string.uri", "value must be a valid URI", known.isUri);
    case "uriRef":
      return predicate("string.uri_ref", "value must be a valid URI reference", known.isUriRef);
    case "email":
      return predicate("string.email", "value must be a valid email address", known.isEmail);
  }
}

/**
 * A pattern we cannot translate is skipped with a process warning rather than
 * failing every value: this check guards pushes, and refusing valid config over
 * our own limitation would be worse than missing one rule. (Every pattern in
 * Envoy's API translates; see envoy-rules-compile.test.ts.)
 */
export function patternOrWarn(pattern: string): RegExp | undefined {
  try {
    return re2RegExp(pattern, { fullMatch: true });
  } catch (e) {
    process.emitWarning(`PGV pattern ${quote(pattern)} is not checked: ${(e as Error).message}`, { code: "PGV_PATTERN" });
    return undefined;
  }
}

/** Compiles StringRules in PGV's order: const, in, lengths, affixes, pattern, well-known formats. */
export function compileStringRules(r: StringRules): Check | undefined {
  const has = (name: string): boolean => hasRule(StringRulesSchema, r, name);
  const checks: (Check | undefined)[] = [];
  if (has("const")) {
    const want = r.const;
    checks.push(predicate("string.const", `value must equal ${quote(want)}`, (s) => s === want));
  }
  if (r.in.length > 0) {
    const set = new Set(r.in);
    checks.push(predicate("string.in", `value must be in list ${showList(r.in)}`, (s) => set.has(s)));
  }
  if (r.notIn.length > 0) {
    const set = new Set(r.notIn);
    checks.push(predicate("string.not_in", `value must not be in list ${showList(r.notIn)}`, (s) => !set.has(s)));
  }
  const bound = (name: "len" | "minLen" | "maxLen" | "lenBytes" | "minBytes" | "maxBytes", rule: string): LengthBound | undefined =>
    has(name) ? { rule, n: Number(r[name]) } : undefined;
  checks.push(
    lengthCheck("characters", runeCount, { exact: bound("len", "string.len"), min: bound("minLen", "string.min_len"), max: bound("maxLen", "string.max_len") }),
  );
  checks.push(
    lengthCheck("bytes", utf8Length, {
      exact: bound("lenBytes", "string.len_bytes"),
      min: bound("minBytes", "string.min_bytes"),
      max: bound("maxBytes", "string.max_bytes"),
    }),
  );
  if (has("prefix")) {
    const p = r.prefix;
    checks.push(predicate("string.prefix", `value does not have prefix ${quote(p)}`, (s) => s.startsWith(p)));
  }
  if (has("suffix")) {
    const p = r.suffix;
    checks.push(predicate("string.suffix", `value does not have suffix ${quote(p)}`, (s) => s.endsWith(p)));
  }
  if (has("contains")) {
    const p = r.contains;
    checks.push(predicate("string.contains", `value does not contain substring ${quote(p)}`, (s) => s.includes(p)));
  }
  if (has("notContains")) {
    const p = r.notContains;
    checks.push(predicate("string.not_contains", `value contains substring ${quote(p)}`, (s) => !s.includes(p)));
  }
  if (has("pattern")) {
    const re = patternOrWarn(r.pattern);
    if (re !== undefined) checks.push(predicate("string.pattern", `value does not match regex pattern ${quote(r.pattern)}`, (s) => re.test(s)));
  }
  checks.push(wellKnown(r));
  const check = allOf(checks);
  if (check === undefined || !r.ignoreEmpty) return check;
  return (v, ctx) => {
    if (v !== "") check(v, ctx);
  };
}
