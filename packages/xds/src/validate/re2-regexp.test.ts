import { test } from "node:test";
import assert from "node:assert/strict";
import { re2RegExp, Re2SyntaxError, regExpModifierGroups } from "./re2-regexp.ts";

const full = (p: string) => re2RegExp(p, { fullMatch: true });
const partial = (p: string) => re2RegExp(p);

test("full match anchors the whole pattern, alternation included", () => {
  assert.equal(full("a|b").test("a"), true);
  assert.equal(full("a|b").test("ab"), false);
  assert.equal(full("[a-z]+").test("abc1"), false);
  assert.equal(partial("[a-z]+").test("abc1"), true);
});

// RegExp modifier groups, which inner case changes need, exist from Node 23.
const modifierGroups = regExpModifierGroups;

test("a leading (?i) makes the whole pattern case-insensitive, on every runtime", () => {
  assert.equal(full("(?i)abc").test("ABC"), true);
  assert.equal(full("(?i)a(b|c)d").test("ACD"), true);
  assert.equal(full("(?is)a.b").test("A\nB"), true);
  assert.equal(full("(?i)[a-c]+").test("AbC"), true);
});

test("without modifier groups, a case change inside the pattern is refused, not mistranslated", { skip: modifierGroups && "this runtime has modifier groups" }, () => {
  assert.throws(() => full("a(?i)bc"), Re2SyntaxError);
  assert.throws(() => full("(?i)a(?-i)b"), Re2SyntaxError);
});

test("leading and inner flag groups", { skip: !modifierGroups && "inner case changes need RegExp modifier groups (Node 23 or later)" }, () => {
  assert.equal(full("(?i)abc").test("ABC"), true);
  assert.equal(full("a(?i)bc").test("aBC"), true);
  assert.equal(full("a(?i)bc").test("ABC"), false);
  // The flag lasts to the end of its group, across |.
  assert.equal(full("(x(?i)y|z)w").test("xYw"), true);
  assert.equal(full("(x(?i)y|z)w").test("Zw"), true);
  assert.equal(full("(x(?i)y|z)w").test("ZW"), false);
  assert.equal(full("(?i:ab)c").test("ABc"), true);
  assert.equal(full("(?i:ab)c").test("ABC"), false);
  assert.equal(full("(?s).+").test("a\nb"), true);
  assert.equal(full(".+").test("a\nb"), false);
  assert.throws(() => full("(?U)a+"), Re2SyntaxError);
});

test("dot matches \\r like RE2, and \\s is RE2's ASCII set", () => {
  assert.equal(full("a.b").test("a\rb"), true);
  assert.equal(full("a.b").test("a\u2028b"), true);
  assert.equal(full("\\s").test("\v"), false);
  assert.equal(full("\\s").test("\u00a0"), false);
  assert.equal(full("[\\s]").test("\t"), true);
  assert.equal(full("\\S+").test("ab"), true);
});

test("anchors: \\A, \\z, and multi-line ^ $", () => {
  assert.equal(partial("\\Aab").test("abc"), true);
  assert.equal(partial("\\Aab").test("cab"), false);
  assert.equal(partial("ab\\z").test("cab"), true);
  assert.equal(partial("ab\\z").test("ab\n"), false);
  assert.equal(partial("(?m)^b$").test("a\nb\nc"), true);
  assert.equal(partial("^b$").test("a\nb\nc"), false);
});

test("RE2-only syntax: \\Q..\\E, (?P<name>), \\x{...}, \\pL, POSIX classes, escaped punctuation, literal braces", () => {
  assert.equal(full("\\Qa.b*\\E").test("a.b*"), true);
  assert.equal(full("\\Qa.b*\\E").test("aXb"), false);
  assert.equal(full("(?P<year>\\d{4})").exec("2024")?.groups?.["year"], "2024");
  assert.equal(full("\\x{1F600}").test("😀"), true);
  assert.equal(full("\\pL+").test("héllo"), true);
  assert.equal(full("\\p{Greek}+").test("αβγ"), true);
  assert.equal(full("\\PL").test("1"), true);
  assert.equal(full("[[:alpha:]_]+").test("ab_c"), true);
  assert.equal(full("[[:digit:]]+").test("12a"), false);
  assert.equal(full("a\\-b\\:c").test("a-b:c"), true);
  assert.equal(full("[\\-a]+").test("-a-"), true);
  assert.equal(full("a{,2}").test("a{,2}"), true);
  assert.equal(full("a{2}").test("aa"), true);
  assert.equal(full("x}").test("x}"), true);
  assert.equal(full("[]a]+").test("]a"), true);
  assert.equal(full("\\101").test("A"), true);
  assert.equal(full(".").test("😀"), true);
});

test("what RE2 rejects is rejected", () => {
  assert.throws(() => full("(?=a)"), Re2SyntaxError);
  assert.throws(() => full("(?<!a)b"), Re2SyntaxError);
  assert.throws(() => full("(a)\\1"), Re2SyntaxError);
  assert.throws(() => full("a{1001}"), Re2SyntaxError);
  assert.throws(() => full("(a"), Re2SyntaxError);
  assert.throws(() => full("a)"), Re2SyntaxError);
  assert.throws(() => full("[a"), Re2SyntaxError);
});
