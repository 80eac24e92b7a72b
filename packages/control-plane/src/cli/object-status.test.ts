import assert from "node:assert/strict";
import { test } from "node:test";
import { objectStatus, rejectionLines } from "./object-status.ts";

test("objectStatus: NACKED by N before the acknowledged count; '-' when no proxy receives the object", () => {
  const base = { object: "Listener/a", groups: ["default"], targets: 2, acknowledged: 1 };
  assert.equal(objectStatus(base), "1/2");
  assert.equal(objectStatus({ ...base, targets: 0, acknowledged: 0 }), "-");
  assert.equal(objectStatus(undefined), "-");
  const nack = { nodeId: "edge-1", type: "LDS", message: "Error adding/updating listener(s) a: cannot bind\n", resources: ["a"], named: true };
  const rejected = { ...base, rejected: { proxies: 1, nacks: [nack] } };
  assert.equal(objectStatus(rejected), "NACKED by 1");
  assert.deepEqual(rejectionLines(rejected), ["Listener/a rejected by edge-1 (LDS: a): Error adding/updating listener(s) a: cannot bind"]);
  assert.match(rejectionLines({ ...base, rejected: { proxies: 1, nacks: [{ ...nack, resources: [], named: false }] } })[0] ?? "", /names no resource, so every object of this type is marked/);
});
