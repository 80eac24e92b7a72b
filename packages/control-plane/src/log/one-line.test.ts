import assert from "node:assert/strict";
import { test } from "node:test";
import { oneLine, oneLineLog } from "./one-line.ts";

test("control characters become visible escapes, so one event stays one line", () => {
  assert.equal(oneLine("a\nb\rc\0d\u001b[31me\tf\u2028g\u0085h\u007f"), "a\\nb\\rc\\0d\\e[31me\\tf\\u2028g\\u0085h\\u007f");
  assert.equal(oneLine("plain C:\\path ünïcödé"), "plain C:\\path ünïcödé");
  const lines: string[] = [];
  oneLineLog((l) => lines.push(l))("NACK: bad\n2026-01-01 forged line");
  assert.deepEqual(lines, ["NACK: bad\\n2026-01-01 forged line"]);
});
