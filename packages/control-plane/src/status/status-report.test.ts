import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StatusRegistry, TypeUrl } from "@ts-control-plane/xds";
import { buildStatusReport, type SnapshotView } from "./status-report.ts";

const snapshot = (versions: Record<string, string>): SnapshotView => ({
  typeVersion: (url) => versions[url] ?? "",
  resources: (url) => new Map(versions[url] === undefined ? [] : [["r", {}]]),
});
const node = (id: string) => ({ id, cluster: "c" });

describe("status report", () => {
  it("is SYNCED when the server had nothing newer to send at the current version (issue 8: STALE forever once nothing is left for a type)", () => {
    const status = new StatusRegistry();
    status.streamOpened(node("envoy-a"), "default");
    status.subscribed("envoy-a", TypeUrl.Route, ["web"]);
    status.sent("envoy-a", TypeUrl.Route, "r1", "1");
    status.acked("envoy-a", TypeUrl.Route, "r1");
    const inputs = { revision: 2, groupOf: () => "default", snapshotOf: () => snapshot({ [TypeUrl.Route]: "r2" }), groups: [] };
    // r2 changed only what envoy-a does not ask for: no response went out.
    assert.equal(buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.state, "STALE");
    status.settled("envoy-a", TypeUrl.Route, "r2");
    assert.equal(buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.state, "SYNCED");
    // Settled says nothing about a response the node has not ACKed yet.
    status.sent("envoy-a", TypeUrl.Route, "r2", "2");
    assert.equal(buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.state, "STALE");
  });

  it("says SYNCED, STALE and NACKED per node and type, with Envoy's message", () => {
    // What the xDS server's streams record as they go.
    const status = new StatusRegistry();
    status.streamOpened(node("envoy-a"), "default");
    status.subscribed("envoy-a", TypeUrl.Cluster, ["*"]);
    status.sent("envoy-a", TypeUrl.Cluster, "v1", "1");
    status.acked("envoy-a", TypeUrl.Cluster, "v1");
    status.sent("envoy-a", TypeUrl.Listener, "l2", "2");
    status.nacked("envoy-a", TypeUrl.Listener, { version: "l2", nonce: "2", message: "bad port", code: 3 });
    status.streamOpened(node("envoy-b"), "default");
    status.sent("envoy-b", TypeUrl.Cluster, "v0", "1");
    status.acked("envoy-b", TypeUrl.Cluster, "v0");

    const report = buildStatusReport({
      revision: 3,
      proxies: status.nodes(),
      groupOf: () => "default",
      snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1", [TypeUrl.Listener]: "l2" }),
      groups: [{ name: "default", objects: ["Backend/a"] }],
    });
    const [a, b] = report.nodes;
    assert.equal(a?.nodeId, "envoy-a");
    assert.equal(a?.cluster, "c");
    assert.deepEqual(a?.types.map((t) => [t.type, t.state]), [["CDS", "SYNCED"], ["LDS", "NACKED"]]);
    assert.deepEqual(Object.keys(a?.types[1]?.nack ?? {}), ["version", "nonce", "message", "at"], "the NACK as the admin API has always shown it");
    assert.equal(a?.types[1]?.nack?.message, "bad port");
    assert.deepEqual([a?.types[1]?.responses, a?.types[1]?.nacks], [1, 1]);
    assert.equal(a?.state, "NACKED");
    assert.equal(a?.types[0]?.error, undefined, "no error key while the type delivers");
    assert.deepEqual(b?.types.map((t) => [t.type, t.state]), [["CDS", "STALE"], ["LDS", "STALE"]]);
    assert.deepEqual(report.objects, [{ object: "Backend/a", groups: ["default"], targets: 2, acknowledged: 0 }]);

    // A later response that is acknowledged clears the NACK state.
    status.sent("envoy-a", TypeUrl.Listener, "l2", "3");
    status.acked("envoy-a", TypeUrl.Listener, "l2");
    status.streamClosed("envoy-b");
    const again = buildStatusReport({
      revision: 3,
      proxies: status.nodes(),
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
      proxies: status.nodes(),
      groupOf: (p) => p.cacheKey,
      matchingGroupOf: () => "edge",
      snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1", [TypeUrl.Listener]: "l2" }),
      groups: [{ name: "default", objects: ["Backend/a"] }],
    });
    assert.equal(moved.nodes[0]?.group, "default");
    assert.equal(moved.nodes[0]?.state, "STALE");
    assert.equal(moved.nodes[0]?.matchesGroup, "edge");
  });

  it("shows a proxy queued for its initial sync (reconnect storm) while it is connected", () => {
    const status = new StatusRegistry();
    status.streamOpened(node("envoy-q"), "default");
    status.initialSync("envoy-q", "queued");
    const inputs = { revision: 1, groupOf: () => "default", snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1" }), groups: [{ name: "default", objects: ["Service/a"] }] };
    assert.equal(buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.initialSync, "queued");
    status.initialSync("envoy-q", undefined);
    assert.equal(buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.initialSync, undefined);
    const load = { openStreams: 3, syncingStreams: 1, queuedStreams: 2, initialSyncTimeouts: 0, bufferedBytes: 10, streamsOverBudget: 0, stuckStreamsEnded: 0, maxStreams: undefined, streamsShed: 0, streamsRefused: 4 };
    assert.deepEqual(buildStatusReport({ ...inputs, proxies: status.nodes(), xdsLoad: load }).xds, {
      openStreams: 3,
      syncingStreams: 1,
      queuedStreams: 2,
      bufferedBytes: 10,
      streamsOverBudget: 0,
      stuckStreamsEnded: 0,
      streamsShed: 0,
      streamsRefused: 4,
    });
  });

  it("never reports a disconnected node SYNCED, even on what it had acknowledged (docs/admin-api.md: STALE)", () => {
    const status = new StatusRegistry();
    status.streamOpened(node("envoy-a"), "default");
    status.sent("envoy-a", TypeUrl.Cluster, "v1", "1");
    status.acked("envoy-a", TypeUrl.Cluster, "v1");
    const inputs = { revision: 1, groupOf: () => "default", snapshotOf: () => snapshot({ [TypeUrl.Cluster]: "v1" }), groups: [{ name: "default", objects: ["Service/a"] }] };
    assert.equal(buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.state, "SYNCED");
    status.streamClosed("envoy-a");
    const report = buildStatusReport({ ...inputs, proxies: status.nodes() });
    assert.equal(report.nodes[0]?.connected, false);
    assert.equal(report.nodes[0]?.state, "STALE");
    assert.deepEqual(report.nodes[0]?.types.map((t) => [t.type, t.state, t.ackedVersion]), [["CDS", "STALE", "v1"]]);
    assert.deepEqual(report.objects, [{ object: "Service/a", groups: ["default"], targets: 0, acknowledged: 0 }]);
  });

  it("shows why a response was not delivered (too large) until one that fits is sent", () => {
    const status = new StatusRegistry();
    status.streamOpened(node("envoy-a"), "default");
    status.sent("envoy-a", TypeUrl.Route, "r1", "1");
    status.acked("envoy-a", TypeUrl.Route, "r1");
    status.responseFailed("envoy-a", TypeUrl.Route, { code: "response_too_large", message: "the RDS response at version r2 is 16000 bytes, over maxResponseBytes 8192", version: "r2" });
    const inputs = { revision: 2, groupOf: () => "default", snapshotOf: () => snapshot({ [TypeUrl.Route]: "r2" }), groups: [] };
    const held = buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.types[0];
    assert.equal(held?.state, "STALE");
    assert.equal(held?.error?.code, "response_too_large");
    assert.equal(held?.error?.version, "r2");
    assert.match(held?.error?.message ?? "", /over maxResponseBytes 8192/);

    status.sent("envoy-a", TypeUrl.Route, "r2", "2", { error: "clear" });
    status.acked("envoy-a", TypeUrl.Route, "r2");
    const delivered = buildStatusReport({ ...inputs, proxies: status.nodes() }).nodes[0]?.types[0];
    assert.equal(delivered?.state, "SYNCED");
    assert.equal(delivered?.error, undefined);
  });
});

describe("status report: NACKs on the right object", () => {
  const resourceObjects = new Map([
    [TypeUrl.Cluster, new Map([["svc", ["Service/svc"]]])],
    [TypeUrl.Listener, new Map([["web", ["Listener/web"]], ["tcp_busy", ["Listener/tcp_busy"]]])],
    [TypeUrl.Route, new Map([["web", ["Listener/web", "Route/r"]]])],
  ]);
  const groups = [{ name: "default", objects: ["Listener/tcp_busy", "Listener/web", "Route/r", "Service/svc"], resourceObjects }];
  const versions = { [TypeUrl.Cluster]: "c1", [TypeUrl.Listener]: "l2", [TypeUrl.Route]: "r1" };
  const nackedProxy = (message: string) => {
    const status = new StatusRegistry();
    status.streamOpened(node("envoy-a"), "default");
    for (const [url, v] of Object.entries(versions)) {
      status.sent("envoy-a", url, v, "1");
      status.acked("envoy-a", url, v);
    }
    status.sent("envoy-a", TypeUrl.Listener, "l3", "2");
    status.nacked("envoy-a", TypeUrl.Listener, { version: "l3", nonce: "2", message, code: 13 });
    return status;
  };
  const report = (status: StatusRegistry) =>
    buildStatusReport({ revision: 1, proxies: status.nodes(), groupOf: () => "default", snapshotOf: () => snapshot({ ...versions, [TypeUrl.Listener]: "l3" }), groups });

  it("marks rejected only the object whose listener Envoy names; the others stay acknowledged", () => {
    const message = "Error adding/updating listener(s) tcp_busy: cannot bind '127.0.0.1:4321': Address already in use\n";
    const objects = report(nackedProxy(message)).objects;
    assert.deepEqual(
      objects.map((o) => [o.object, o.acknowledged, o.targets, o.rejected?.proxies]),
      [
        ["Listener/tcp_busy", 0, 1, 1],
        ["Listener/web", 1, 1, undefined],
        ["Route/r", 1, 1, undefined],
        ["Service/svc", 1, 1, undefined],
      ],
    );
    assert.deepEqual(objects[0]?.rejected?.nacks, [{ nodeId: "envoy-a", type: "LDS", message, resources: ["tcp_busy"], named: true }]);
  });

  it("falls back to every object with a resource of the type when Envoy's message names none, and says so", () => {
    const objects = report(nackedProxy("something Envoy did not like")).objects;
    assert.deepEqual(
      objects.map((o) => [o.object, o.acknowledged, o.rejected?.nacks[0]?.named]),
      [
        ["Listener/tcp_busy", 0, false],
        ["Listener/web", 0, false],
        ["Route/r", 1, undefined],
        ["Service/svc", 1, undefined],
      ],
    );
  });

  it("a proxy not yet acknowledging another type acknowledges no object", () => {
    const status = nackedProxy("Error adding/updating listener(s) tcp_busy: cannot bind");
    status.sent("envoy-a", TypeUrl.Cluster, "c2", "3");
    const r = buildStatusReport({ revision: 1, proxies: status.nodes(), groupOf: () => "default", snapshotOf: () => snapshot({ ...versions, [TypeUrl.Cluster]: "c2", [TypeUrl.Listener]: "l3" }), groups });
    assert.deepEqual(r.objects.map((o) => [o.object, o.acknowledged, o.rejected?.proxies]), [["Listener/tcp_busy", 0, 1], ["Listener/web", 0, undefined], ["Route/r", 0, undefined], ["Service/svc", 0, undefined]]);
  });
});
