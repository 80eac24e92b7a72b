import assert from "node:assert/strict";
import { it } from "node:test";
import { stagePlan } from "./stage-plan.ts";

const proxies = Array.from({ length: 20 }, (_, i) => ({ id: `edge-${i}`, group: i < 16 ? "web" : "batch" }));

it("plans one stage per share over the proxies the change targets, each stage holding the previous one's proxies, the same every time", () => {
  const plan = stagePlan({ canary: { share: 10, next: [50] }, proxies, changedGroups: new Set(["web"]) });
  assert.deepEqual(plan.map((s) => s.length), [2, 8], "10% and 50% of the 16 targeted proxies, rounded up");
  const [first = [], second = []] = plan;
  for (const id of first) assert.ok(second.includes(id), `${id} of the 10% is in the 50%: it never goes back to the old revision`);
  for (const id of second) assert.equal(proxies.find((p) => p.id === id)?.group, "web", "only targeted proxies");
  assert.deepEqual(stagePlan({ canary: { share: 10, next: [50] }, proxies: [...proxies].reverse(), changedGroups: new Set(["web"]) }), plan, "stable: the order proxies connected in does not matter");
  // A proxy that connects later does not move the others out of their stage: the rank is per node id.
  const more = stagePlan({ canary: { share: 50 }, proxies: [...proxies, { id: "edge-new", group: "web" }], changedGroups: new Set(["web"]) })[0] ?? [];
  assert.ok(second.filter((id) => !more.includes(id)).length <= 1, "at most the one the newcomer outranks");
});

it("plans a node group canary as one stage, and at least one proxy for a small share", () => {
  assert.deepEqual(stagePlan({ canary: { group: "batch" }, proxies, changedGroups: new Set(["web"]) }), [["edge-16", "edge-17", "edge-18", "edge-19"]]);
  assert.deepEqual(stagePlan({ canary: { share: 1, next: [100] }, proxies, changedGroups: new Set(["batch"]) }).map((s) => s.length), [1, 4]);
  assert.deepEqual(stagePlan({ canary: { share: 10 }, proxies, changedGroups: new Set() }), [[]], "a change no connected proxy runs: an empty canary");
});
