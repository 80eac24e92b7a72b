import assert from "node:assert/strict";
import { test } from "node:test";
import { SpecReader } from "./spec-reader.ts";

test("a number too large to be finite is out of range, not missing nor a fraction", () => {
  for (const port of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
    const r = new SpecReader("Service/a");
    assert.equal(r.integer({ port }, "port", ["spec"], { required: true, max: 65535 }), undefined);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path, d.message]), [["schema.range", "spec.port", "port is not a finite number (out of range 0..65535)"]]);
  }
});
