import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pinnedKey } from "../reconciler/reconciler.ts";
import { chooseShare, groupOfKey, revisionForNode } from "./node-revision.ts";
import type { Rollout } from "./rollout.ts";

const rollout = (over: Partial<Rollout> = {}): Rollout => ({
  id: 4,
  fromRevision: 3,
  toRevision: 4,
  source: "cli",
  state: "canary",
  canary: { share: 10 },
  canaryNodes: ["edge-2"],
  bakeMs: 1000,
  ackTimeoutMs: 1000,
  manualPromote: false,
  max5xxIncrease: 0.05,
  minRequests: 20,
  startedAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

describe("which revision a node gets", () => {
  it("chooses a share by hash of the node id: the same proxies whatever the order, at least one", () => {
    const ids = Array.from({ length: 40 }, (_, i) => `edge-${i}`);
    const chosen = chooseShare(ids, 10);
    assert.equal(chosen.length, 4);
    assert.deepEqual(chooseShare([...ids].reverse(), 10), chosen, "the order the proxies connected in does not matter");
    assert.deepEqual(chooseShare(ids.slice(0, 3), 10).length, 1, "10% of three proxies is one canary");
    assert.deepEqual(chooseShare([], 50), []);
    assert.equal(chooseShare(ids, 100).length, 40);
    // A larger share keeps the proxies a smaller one chose: widening a canary never swaps it.
    for (const id of chosen) assert.ok(chooseShare(ids, 30).includes(id));
  });

  it("serves the canary the new revision and holds every other proxy on the previous one while the rollout runs", () => {
    const r = rollout();
    assert.equal(revisionForNode({ rollout: r, hold: undefined, node: { id: "edge-2", group: "web" } }), undefined);
    assert.equal(revisionForNode({ rollout: r, hold: undefined, node: { id: "edge-1", group: "web" } }), 3);
    const byGroup = rollout({ canary: { group: "canary" }, canaryNodes: [] });
    assert.equal(revisionForNode({ rollout: byGroup, hold: undefined, node: { id: "any", group: "canary" } }), undefined);
    assert.equal(revisionForNode({ rollout: byGroup, hold: undefined, node: { id: "edge-2", group: "web" } }), 3);
    for (const state of ["succeeded", "failed", "aborted"] as const) {
      assert.equal(revisionForNode({ rollout: rollout({ state }), hold: undefined, node: { id: "edge-1", group: "web" } }), undefined, `${state}: everyone on the stored revision`);
    }
    assert.equal(revisionForNode({ rollout: r, hold: 3, node: { id: "edge-2", group: "web" } }), 3, "a hold holds the canary too");
  });

  it("reads the group back from a pinned key only for the revision pinned now", () => {
    assert.deepEqual(groupOfKey(pinnedKey("web", 3), 3), { group: "web", revision: 3 });
    assert.deepEqual(groupOfKey("web", 3), { group: "web" });
    assert.deepEqual(groupOfKey("web@r3", undefined), { group: "web@r3" }, "a group may be named like a pinned key");
  });
});
