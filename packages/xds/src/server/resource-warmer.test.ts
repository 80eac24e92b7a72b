// Preparing a type's resources ahead of the first response (issue 15 item 4):
// in chunks that yield, once per type resources, streams asking meanwhile
// joining the same preparation. Nothing timed: the tests check what happened
// before what.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { ResourceWarmer } from "./resource-warmer.ts";
import { SendSlicer } from "./send-slicer.ts";

function source(n: number): TypeResources {
  const items = new Map<string, EncodedResource>();
  for (let i = 0; i < n; i++) items.set(`r${i}`, { name: `r${i}` } as unknown as EncodedResource);
  return { version: "v1", items };
}

test("a large type is prepared in chunks that yield; every resource is touched before ready, once, whoever else waits", async () => {
  // Each resource "takes" 0.1 ms on the slicer's clock: 5,000 are far over one 15 ms slice.
  let now = 0;
  const warmer = new ResourceWarmer({ slicer: new SendSlicer({ now: () => now }) });
  const types = source(5000);
  const touched = new Map<string, number>();
  const touch = (r: EncodedResource): void => {
    now += 0.1;
    touched.set(r.name, (touched.get(r.name) ?? 0) + 1);
  };
  let yielded = false;
  setImmediate(() => {
    yielded = touched.size < 5000;
  });
  const ready: string[] = [];
  assert.equal(
    warmer.warm(types, touch, () => ready.push("first")),
    false,
  );
  assert.equal(
    warmer.warm(types, touch, () => ready.push("second")),
    false,
    "a second stream joins the preparation under way",
  );
  const deadline = Date.now() + 10_000;
  while (ready.length < 2 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ready, ["first", "second"]);
  assert.equal(touched.size, 5000);
  assert.ok([...touched.values()].every((n) => n === 1), "each resource prepared once");
  assert.ok(yielded, "the event loop turned while the type was being prepared");
  assert.equal(
    warmer.warm(types, touch, () => assert.fail("not called: already prepared")),
    true,
  );
});

test("a small type is prepared at once", () => {
  const warmer = new ResourceWarmer({ slicer: new SendSlicer() });
  let n = 0;
  assert.equal(
    warmer.warm(source(10), () => n++, () => assert.fail("not called")),
    true,
  );
  assert.equal(n, 10);
});
