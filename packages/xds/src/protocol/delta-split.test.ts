import { test } from "node:test";
import assert from "node:assert/strict";
import { splitBySize } from "./delta-split.ts";

test("items are split in order into chunks within the budget; an oversized item gets its own chunk", () => {
  const size = (n: number): number => n;
  assert.deepEqual(splitBySize([3, 3, 3, 3], size, 7), [[3, 3], [3, 3]]);
  assert.deepEqual(splitBySize([2, 9, 2], size, 5), [[2], [9], [2]]);
  assert.deepEqual(splitBySize([], size, 5), [[]], "one empty chunk: a response with removals only");
});
