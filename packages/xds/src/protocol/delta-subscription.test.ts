import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyDeltaRequest } from "./delta-request-kind.ts";
import { applyDeltaRequest, createDeltaSubscription, deltaSubscribedNames, recordDeltaSent, selectDelta, type Versioned } from "./delta-subscription.ts";

const avail = (...rs: [string, string][]): Map<string, Versioned> => new Map(rs.map(([name, version]) => [name, { name, version }]));
const names = (rs: readonly Versioned[]): string[] => rs.map((r) => r.name);

test("legacy wildcard only for full-state types whose first request names nothing", () => {
  assert.equal(createDeltaSubscription({ subscribe: [], unsubscribe: [] }, { fullState: true }).wildcard, true);
  assert.equal(createDeltaSubscription({ subscribe: [], unsubscribe: [] }, { fullState: false }).wildcard, false);
  assert.equal(createDeltaSubscription({ subscribe: ["a"], unsubscribe: [] }, { fullState: true }).wildcard, false);
  assert.equal(createDeltaSubscription({ subscribe: ["*"], unsubscribe: [] }, { fullState: false }).wildcard, true);
});

test("naming a resource ends legacy wildcard; an explicit '*' keeps it", () => {
  const legacy = createDeltaSubscription({ subscribe: [], unsubscribe: [] }, { fullState: true });
  applyDeltaRequest(legacy, { subscribe: [], unsubscribe: [] });
  assert.equal(legacy.wildcard, true, "an empty ACK changes nothing");
  applyDeltaRequest(legacy, { subscribe: ["a"], unsubscribe: [] });
  assert.equal(legacy.wildcard, false);
  const explicit = createDeltaSubscription({ subscribe: [], unsubscribe: [] }, { fullState: true });
  applyDeltaRequest(explicit, { subscribe: ["*", "a"], unsubscribe: [] });
  assert.equal(explicit.wildcard, true);
  assert.deepEqual(deltaSubscribedNames(explicit), ["*", "a"]);
});

test("subscriptions are incremental", () => {
  const s = createDeltaSubscription({ subscribe: ["a", "b"], unsubscribe: [] }, { fullState: false });
  applyDeltaRequest(s, { subscribe: ["c"], unsubscribe: ["a"] });
  assert.deepEqual(deltaSubscribedNames(s), ["b", "c"]);
});

test("only resources whose version differs from the client's are selected; initial_resource_versions count", () => {
  const s = createDeltaSubscription({ subscribe: ["a", "b", "c"], unsubscribe: [], initialResourceVersions: { a: "1", b: "old" } }, { fullState: false });
  const sel = selectDelta(avail(["a", "1"], ["b", "2"], ["c", "1"], ["d", "1"]), s);
  assert.deepEqual(names(sel.resources), ["b", "c"]);
  assert.deepEqual(sel.removed, []);
  recordDeltaSent(s, sel);
  assert.deepEqual(selectDelta(avail(["a", "1"], ["b", "2"], ["c", "1"]), s), { resources: [], removed: [] });
});

test("deletions are removed_resources; a subscribed name that does not exist is reported once (#565)", () => {
  const s = createDeltaSubscription({ subscribe: ["a", "ghost"], unsubscribe: [] }, { fullState: false });
  const first = selectDelta(avail(["a", "1"]), s);
  assert.deepEqual(first.removed, ["ghost"]);
  recordDeltaSent(s, first);
  assert.deepEqual(selectDelta(avail(["a", "1"]), s).removed, [], "not repeated");
  const gone = selectDelta(avail(), s);
  assert.deepEqual(gone.removed, ["a"]);
  recordDeltaSent(s, gone);
  assert.deepEqual(selectDelta(avail(), s).removed, []);
  const back = selectDelta(avail(["ghost", "1"]), s);
  assert.deepEqual(names(back.resources), ["ghost"], "answered when it appears");
});

test("a wildcard client that unsubscribes one name gets it back (#558, #583)", () => {
  const s = createDeltaSubscription({ subscribe: ["*"], unsubscribe: [] }, { fullState: true });
  recordDeltaSent(s, selectDelta(avail(["a", "1"], ["b", "1"]), s));
  applyDeltaRequest(s, { subscribe: [], unsubscribe: ["a"] });
  assert.deepEqual(names(selectDelta(avail(["a", "1"], ["b", "1"]), s).resources), ["a"]);
});

test("unsubscribed then subscribed again is resent (#583)", () => {
  const s = createDeltaSubscription({ subscribe: ["a"], unsubscribe: [] }, { fullState: false });
  recordDeltaSent(s, selectDelta(avail(["a", "1"]), s));
  applyDeltaRequest(s, { subscribe: [], unsubscribe: ["a"] });
  assert.deepEqual(selectDelta(avail(["a", "1"]), s), { resources: [], removed: [] });
  applyDeltaRequest(s, { subscribe: ["a"], unsubscribe: [] });
  assert.deepEqual(names(selectDelta(avail(["a", "1"]), s).resources), ["a"]);
});

test("a wildcard client holding a deleted resource from initial_resource_versions is told it is removed", () => {
  const s = createDeltaSubscription({ subscribe: [], unsubscribe: [], initialResourceVersions: new Map([["gone", "1"], ["kept", "1"]]) }, { fullState: true });
  assert.deepEqual(selectDelta(avail(["kept", "1"]), s), { resources: [], removed: ["gone"] });
});

test("Delta request kinds: no nonce is an update; a stale nonce is never an ACK or NACK", () => {
  assert.equal(classifyDeltaRequest({ responseNonce: "", hasErrorDetail: false }, "3"), "update");
  assert.equal(classifyDeltaRequest({ responseNonce: "2", hasErrorDetail: true }, "3"), "stale");
  assert.equal(classifyDeltaRequest({ responseNonce: "3", hasErrorDetail: true }, "3"), "nack");
  assert.equal(classifyDeltaRequest({ responseNonce: "3", hasErrorDetail: false }, "3"), "ack");
});

test("streams served one after another share what they hold even when their types' first responses alternate (admission control)", () => {
  const clusters = avail(["c1", "1"], ["c2", "1"]);
  const assignments = avail(["e1", "1"], ["e2", "1"], ["e3", "1"]);
  const held = [];
  // Each stream sends its CDS and then its EDS first response before the next stream's: two transitions from the same empty value interleave.
  for (let i = 0; i < 3; i++) {
    const cds = createDeltaSubscription({ subscribe: ["*"], unsubscribe: [] }, { fullState: true });
    const eds = createDeltaSubscription({ subscribe: ["e1", "e2", "e3"], unsubscribe: [] }, { fullState: false });
    recordDeltaSent(cds, selectDelta(clusters, cds));
    recordDeltaSent(eds, selectDelta(assignments, eds));
    held.push({ cds: cds.clientVersions, eds: eds.clientVersions });
  }
  assert.equal(held[1]?.cds, held[0]?.cds, "one CDS value for every stream");
  assert.equal(held[2]?.eds, held[0]?.eds, "one EDS value for every stream");
  assert.notEqual(held[0]?.cds, held[0]?.eds);
});
