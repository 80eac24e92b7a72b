import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { createProxyStatusTracker, type ProxyNack } from "./proxy-status-tracker.ts";
import { buildStatusReport, type SnapshotView } from "./status-report.ts";

const snapshot = (versions: Record<string, string>): SnapshotView => ({
  typeVersion: (url) => versions[url] ?? "",
  resources: (url) => new Map(versions[url] === undefined ? [] : [["r", {}]]),
});
const node = (id: string) => ({ id, cluster: "c", metadata: {} });

describe("status report", () => {
  it("says SYNCED, STALE and NACKED per node and type, with Envoy's message", () => {
    const nacks: [string, string, ProxyNack][] = [];
    const tracker = createProxyStatusTracker({ onNack: (p, t, n) => nacks.push([p.nodeId, t, n]) });
    const h = tracker.hooks;
    h.onStreamOpen({ streamId: 1, node: node("envoy-a") });
    h.onRequest({ streamId: 1, typeUrl: TypeUrl.Cluster, node: node("envoy-a") });
    h.onResponse({ streamId: 1, typeUrl: TypeUrl.Cluster, version: "v1", nonce: "1" });
    h.onAck({ streamId: 1, typeUrl: TypeUrl.Cluster, version: "v1", nonce: "1" });
    h.onResponse({ streamId: 1, typeUrl: TypeUrl.Listener, version: "l2", nonce: "2" });
    h.onNack({ streamId: 1, typeUrl: TypeUrl.Listener, version: "", nonce: "2", message: "bad port" });
    h.onStreamOpen({ streamId: 2, node: node("envoy-b") });
    h.onResponse({ streamId: 2, typeUrl: TypeUrl.Cluster, version: "v0", nonce: "1" });
    h.onAck({ streamId: 2, typeUrl: TypeUrl.Cluster, version: "v0", nonce: "1" });

    const report = buildStatusReport({
      revision: 3,
      proxies: tracker.proxies(),
      groupOf: () => "default",
      snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1", [TypeUrl.Listener]: "l2" }),
      groups: [{ name: "default", objects: ["Backend/a"] }],
    });
    const [a, b] = report.nodes;
    assert.equal(a?.nodeId, "envoy-a");
    assert.deepEqual(a?.types.map((t) => [t.type, t.state]), [["CDS", "SYNCED"], ["LDS", "NACKED"]]);
    assert.equal(a?.types[1]?.nack?.message, "bad port");
    assert.equal(a?.state, "NACKED");
    assert.deepEqual(b?.types.map((t) => [t.type, t.state]), [["CDS", "STALE"], ["LDS", "STALE"]]);
    assert.deepEqual(report.objects, [{ object: "Backend/a", groups: ["default"], targets: 2, acknowledged: 0 }]);
    assert.equal(nacks.length, 1);

    // A later response that is acknowledged clears the NACK state.
    h.onResponse({ streamId: 1, typeUrl: TypeUrl.Listener, version: "l2", nonce: "3" });
    h.onAck({ streamId: 1, typeUrl: TypeUrl.Listener, version: "l2", nonce: "3" });
    h.onStreamClose({ streamId: 2 });
    const again = buildStatusReport({
      revision: 3,
      proxies: tracker.proxies(),
      groupOf: () => "default",
      snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1", [TypeUrl.Listener]: "l2" }),
      groups: [{ name: "default", objects: ["Backend/a"] }],
    });
    assert.equal(again.nodes[0]?.state, "SYNCED");
    assert.equal(again.nodes[1]?.connected, false);
    assert.deepEqual(again.objects, [{ object: "Backend/a", groups: ["default"], targets: 1, acknowledged: 1 }]);

    // NodeGroup selectors changed: the node matches "edge" now, but its stream still follows "default".
    const moved = buildStatusReport({
      revision: 4,
      proxies: tracker.proxies(),
      groupOf: () => "default",
      matchingGroupOf: () => "edge",
      snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1", [TypeUrl.Listener]: "l2" }),
      groups: [{ name: "default", objects: ["Backend/a"] }],
    });
    assert.equal(moved.nodes[0]?.state, "STALE");
    assert.equal(moved.nodes[0]?.matchesGroup, "edge");
  });

  it("forgets disconnected proxies after forgetAfterMs, never connected ones", () => {
    let clock = 0;
    const tracker = createProxyStatusTracker({ now: () => new Date(clock), forgetAfterMs: 1000 });
    tracker.hooks.onStreamOpen({ streamId: 1, node: node("gone") });
    tracker.hooks.onStreamOpen({ streamId: 2, node: node("here") });
    tracker.hooks.onStreamClose({ streamId: 1 });
    clock = 999;
    assert.deepEqual(tracker.proxies().map((p) => p.nodeId), ["gone", "here"]);
    clock = 1001;
    assert.deepEqual(tracker.proxies().map((p) => p.nodeId), ["here"]);
  });
});
