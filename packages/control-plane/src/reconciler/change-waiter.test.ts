import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, type Snapshot, StatusRegistry, TypeUrl } from "@ts-control-plane/xds";
import { edsCluster, endpoints } from "@ts-control-plane/xds/testing";
import { waitForChange, type WaitForChangeOptions } from "./change-waiter.ts";

const snap = (port: number, clusters = ["backend"]): Snapshot =>
  createSnapshot({ resources: clusters.flatMap((c) => [edsCluster(c), endpoints(c, [port])]) });

/** A registry with `nodes` connected to group "g", subscribed to CDS (wildcard) and EDS "backend". */
function fixture(nodes: readonly string[]) {
  const status = new StatusRegistry();
  for (const id of nodes) {
    status.streamOpened({ id, cluster: "c" }, "g");
    status.subscribed(id, TypeUrl.Cluster, ["*"]);
    status.subscribed(id, TypeUrl.Endpoint, ["backend"]);
  }
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  return {
    status,
    notify,
    options: (before: Snapshot, after: Snapshot, timeoutMs = 1000): WaitForChangeOptions => ({
      before: new Map([["g", before]]),
      after: new Map([["g", after]]),
      current: () => new Map([["g", after]]),
      proxies: () => status.nodes(),
      onStatusChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      timeoutMs,
      startedAt: Date.now(),
      pollMs: 10_000,
    }),
  };
}

test("waits for the ACK of the types the change altered, and says how long it took", async () => {
  const f = fixture(["edge-1"]);
  const before = snap(8080);
  const after = snap(8081);
  const waiting = waitForChange(f.options(before, after));
  // Only EDS changed: a CDS ACK of anything is not what the wait is for.
  f.status.sent("edge-1", TypeUrl.Endpoint, after.typeVersion(TypeUrl.Endpoint), "n1");
  f.notify();
  f.status.acked("edge-1", TypeUrl.Endpoint, after.typeVersion(TypeUrl.Endpoint));
  f.notify();
  const r = await waiting;
  assert.equal(r.live, true);
  assert.equal(r.targets, 1);
  assert.deepEqual(r.nodes.map((n) => [n.node, n.result, n.types]), [["edge-1", "acked", ["EDS"]]]);
  assert.ok((r.nodes[0]?.ackedAfterMs ?? -1) >= 0);
});

test("a NACK of the change's version names the node and Envoy's message", async () => {
  const f = fixture(["edge-1", "edge-2"]);
  const before = snap(8080);
  const after = snap(8080, ["backend", "other"]);
  const waiting = waitForChange(f.options(before, after));
  for (const id of ["edge-1", "edge-2"]) f.status.sent(id, TypeUrl.Cluster, after.typeVersion(TypeUrl.Cluster), "n");
  f.status.acked("edge-1", TypeUrl.Cluster, after.typeVersion(TypeUrl.Cluster));
  f.status.nacked("edge-2", TypeUrl.Cluster, { version: after.typeVersion(TypeUrl.Cluster), nonce: "n", message: "cluster other: bad", code: 3 });
  f.notify();
  const r = await waiting;
  assert.equal(r.live, false);
  assert.deepEqual(
    r.nodes.map((n) => [n.node, n.result, n.message]),
    [
      ["edge-1", "acked", undefined],
      ["edge-2", "nacked", "CDS: cluster other: bad"],
    ],
  );
});

test("a proxy that never answers times out, named with what it was sent", async () => {
  const f = fixture(["quiet"]);
  const before = snap(8080);
  const after = snap(8082);
  f.status.sent("quiet", TypeUrl.Endpoint, after.typeVersion(TypeUrl.Endpoint), "n1");
  const r = await waitForChange(f.options(before, after, 50));
  assert.equal(r.live, false);
  assert.deepEqual(r.nodes.map((n) => [n.node, n.result, n.message]), [["quiet", "timeout", "EDS sent, never acknowledged"]]);
  // About the timeout: a timer may fire a millisecond early by Date.now's clock (libuv's loop time lags it).
  assert.ok(r.elapsedMs >= 45, `elapsed ${r.elapsedMs} ms`);
});

test("a change no connected proxy subscribes to answers at once; an old ACK or NACK does not count", async () => {
  const f = fixture(["edge-1"]);
  const before = snap(8080);
  // A new cluster's EDS: edge-1 does not ask for "extra", so only CDS is waited for.
  const after = snap(8080, ["backend", "extra"]);
  f.status.nacked("edge-1", TypeUrl.Cluster, { version: before.typeVersion(TypeUrl.Cluster), nonce: "old", message: "old news", code: 3 });
  const r = await waitForChange(f.options(before, after, 30));
  assert.deepEqual(r.nodes.map((n) => [n.result, n.types]), [["timeout", ["CDS"]]]);

  const none = await waitForChange({ ...f.options(before, before), proxies: () => f.status.nodes() });
  assert.deepEqual([none.live, none.targets, none.nodes], [true, 0, []]);
});

test("a proxy that disconnects before answering is reported as such", async () => {
  const f = fixture(["edge-1"]);
  const waiting = waitForChange(f.options(snap(8080), snap(8083)));
  f.status.streamClosed("edge-1");
  f.notify();
  const r = await waiting;
  assert.deepEqual(r.nodes.map((n) => [n.node, n.result, n.message]), [["edge-1", "disconnected", "disconnected before acknowledging"]]);
});

test("a type whose changed resources the proxy stopped asking for (a removed cluster's EDS) needs no ACK", async () => {
  const f = fixture(["edge-1"]);
  f.status.subscribed("edge-1", TypeUrl.Endpoint, ["backend", "gone"]);
  const before = snap(8080, ["backend", "gone"]);
  const after = snap(8080);
  const waiting = waitForChange(f.options(before, after));
  f.status.acked("edge-1", TypeUrl.Cluster, after.typeVersion(TypeUrl.Cluster));
  f.status.subscribed("edge-1", TypeUrl.Endpoint, ["backend"]);
  f.notify();
  const r = await waiting;
  assert.deepEqual(r.nodes.map((n) => [n.node, n.result, n.types]), [["edge-1", "acked", ["CDS", "EDS"]]]);
});
