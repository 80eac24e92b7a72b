import assert from "node:assert/strict";
import { test } from "node:test";
import { findTooDeep } from "./nesting-depth.ts";

test("finds JSON and YAML nested past the limit without recursing", () => {
  assert.deepEqual(findTooDeep(`${"[".repeat(200_000)}${"]".repeat(200_000)}`, 100), { limit: 100, offset: 99 });
  assert.equal(findTooDeep(`${'{"a":'.repeat(50)}1${"}".repeat(50)}`, 100), undefined);
  assert.ok(findTooDeep(`${'{"a":'.repeat(101)}1${"}".repeat(101)}`, 100) !== undefined);
  assert.ok(findTooDeep(`${"- ".repeat(200_000)}x\n`, 100) !== undefined, "compact block lists");
  const indented = Array.from({ length: 150 }, (_, d) => `${" ".repeat(d)}k${d}:`).join("\n");
  assert.ok(findTooDeep(indented, 100) !== undefined, "block mappings by indentation");
});

test("does not count brackets in strings, comments or plain scalars, nor siblings", () => {
  assert.equal(findTooDeep(`a: "${"[".repeat(500)}"\nb: '${"{".repeat(500)}'\n# ${"[".repeat(500)}\nc: x[${"[".repeat(500)}\n`, 100), undefined);
  const siblings = Array.from({ length: 500 }, (_, i) => `- name: s${i}\n  spec:\n    port: ${i}`).join("\n");
  assert.equal(findTooDeep(siblings, 100), undefined);
  assert.equal(findTooDeep(`[${"[1],".repeat(1000)}[2]]`, 100), undefined);
});
