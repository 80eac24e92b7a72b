import { test } from "node:test";
import assert from "node:assert/strict";
import { HeldVersions } from "./held-versions.ts";
import { applyDeltaRequest, createDeltaSubscription, recordDeltaSent, selectDelta, type Versioned } from "./delta-subscription.ts";

test("held versions behave as a map under any mix of sets and removals, folding included", () => {
  const model = new Map<string, string>();
  let held = HeldVersions.empty;
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 400; round++) {
    const changes: Array<[string, string | undefined]> = [];
    for (let i = random(40); i >= 0; i--) changes.push([`n${random(300)}`, random(4) === 0 ? undefined : `v${random(3)}`]);
    for (const [name, version] of changes) version === undefined ? model.delete(name) : model.set(name, version);
    const before = held;
    held = held.with(changes);
    assert.equal(held.size, model.size);
    assert.deepEqual(new Map([...held].sort()), new Map([...model].sort()));
    for (let i = 0; i < 300; i++) assert.equal(held.get(`n${i}`), model.get(`n${i}`));
    if (changes.every(([n, v]) => before.get(n) === v)) assert.equal(held, before, "no change, same object");
  }
});

test("streams sent the same resources from the same state share what they hold; one that differs does not", () => {
  const r = (name: string, version: string): Versioned => ({ name, version });
  const all = Array.from({ length: 500 }, (_, i) => r(`c${i}`, "1"));
  const available = new Map(all.map((x) => [x.name, x]));
  const subs = [0, 1, 2].map(() => createDeltaSubscription({ subscribe: all.map((x) => x.name), unsubscribe: [] }, { fullState: false }));
  for (const s of subs) recordDeltaSent(s, selectDelta(available, s));
  assert.equal(subs[0]?.clientVersions, subs[1]?.clientVersions);
  assert.equal(subs[1]?.clientVersions, subs[2]?.clientVersions);
  const [a, b, c] = subs as [(typeof subs)[0] & object, (typeof subs)[0] & object, (typeof subs)[0] & object];
  available.set("c7", r("c7", "2"));
  recordDeltaSent(a, selectDelta(available, a));
  recordDeltaSent(b, selectDelta(available, b));
  assert.equal(a.clientVersions, b.clientVersions);
  assert.notEqual(a.clientVersions, c.clientVersions, "c was not sent it");
  assert.equal(a.clientVersions.get("c7"), "2");
  assert.equal(c.clientVersions.get("c7"), "1");
  assert.deepEqual(selectDelta(available, c).resources, [r("c7", "2")]);
});

test("subscribed names are shared by streams that asked for the same, and changing one stream's never changes another's", () => {
  const sub = (subscribe: string[]) => createDeltaSubscription({ subscribe, unsubscribe: [] }, { fullState: false });
  const a = sub(["x", "y"]);
  const b = sub(["x", "y"]);
  assert.equal(a.names, b.names, "one set for both");
  applyDeltaRequest(a, { subscribe: ["z"], unsubscribe: ["x"] });
  assert.deepEqual([...b.names].sort(), ["x", "y"], "b keeps its names");
  assert.deepEqual([...a.names].sort(), ["y", "z"]);
  applyDeltaRequest(b, { subscribe: ["z"], unsubscribe: ["x"] });
  assert.equal(b.names, a.names, "the same change from the same names: shared again");
  // A set only one stream holds is changed in place; the transition that made
  // it must not hand its new content to a stream making the old change.
  const c = sub(["p"]);
  applyDeltaRequest(c, { subscribe: ["q"], unsubscribe: [] });
  const d = sub(["p"]);
  applyDeltaRequest(c, { subscribe: ["r"], unsubscribe: [] });
  assert.deepEqual([...c.names].sort(), ["p", "q", "r"]);
  applyDeltaRequest(d, { subscribe: ["q"], unsubscribe: [] });
  assert.deepEqual([...d.names].sort(), ["p", "q"]);
  assert.deepEqual([...c.names].sort(), ["p", "q", "r"]);
  applyDeltaRequest(d, { subscribe: ["s"], unsubscribe: ["p"] });
  assert.deepEqual([...d.names].sort(), ["q", "s"]);
  assert.deepEqual([...c.names].sort(), ["p", "q", "r"]);
});
