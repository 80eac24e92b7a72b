// Admission control of initial syncs (issue 15 item 2), on the wire: at most
// maxInitialSyncs streams sync at once, the others are served in arrival
// order, a stream that never answers gives its slot up after
// initialSyncTimeoutMs, and with no storm nothing waits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { serveForTest, until } from "../../testing/serve-for-test.ts";
import { createXdsServer } from "./xds-server.ts";

async function clusterCache() {
  const cache = createSnapshotCache({ nodeKey: () => "all" });
  const resources = [encodeResource(ClusterSchema, create(ClusterSchema, { name: "c1" }))];
  await cache.setSnapshot("all", createSnapshot({ skipConsistencyCheck: true, version: "v1", resources }));
  return cache;
}

for (const variant of ["sotw", "delta"] as const) {
  test(`${variant}: with maxInitialSyncs 2, ten streams are served in arrival order, never more than two syncing, all in the end`, { timeout: 60_000 }, async (t) => {
    const cache = await clusterCache();
    const firstResponses: string[] = [];
    const inFlight = new Set<string>();
    let mostInFlight = 0;
    const { server, port, client } = await serveForTest(t, {
      cache,
      maxInitialSyncs: 2,
      hooks: {
        onResponse: (e) => {
          if (firstResponses.includes(e.nodeId)) return;
          firstResponses.push(e.nodeId);
          inFlight.add(e.nodeId);
          mostInFlight = Math.max(mostInFlight, inFlight.size);
        },
        onAck: (e) => inFlight.delete(e.nodeId),
      },
    });
    const ids = Array.from({ length: 10 }, (_, i) => `node-${i}`);
    const clients = ids.map((nodeId) => client(variant === "sotw" ? new RawXdsClient({ port, nodeId }) : new RawDeltaClient({ port, nodeId })));
    // One at a time, so that arrival order is the order of ids.
    for (const [i, c] of clients.entries()) {
      if (c instanceof RawXdsClient) c.send({ typeUrl: TypeUrl.Cluster });
      else c.send({ typeUrl: TypeUrl.Cluster, subscribe: ["*"] });
      await until(`${ids[i]} to be seen`, () => server.status.node(ids[i] ?? "") !== undefined);
    }
    await until("two syncing and eight queued", () => server.metrics.syncingStreams === 2 && server.metrics.queuedStreams === 8);
    assert.equal(server.status.node("node-0")?.initialSync, "syncing");
    assert.equal(server.status.node("node-9")?.initialSync, "queued");
    // Each client ACKs its first response when it comes; each ACK lets the next in line go.
    const answered = clients.map(async (c) => {
      if (c instanceof RawXdsClient) c.ack(await c.next(20_000));
      else c.ack(await c.next(20_000));
    });
    await Promise.all(answered);
    await until("every initial sync to end", () => server.metrics.syncingStreams === 0 && server.metrics.queuedStreams === 0);
    assert.deepEqual(firstResponses, ids, "first responses in arrival order");
    assert.ok(mostInFlight <= 2, `at most two initial syncs in flight (saw ${mostInFlight})`);
    for (const id of ids) assert.equal(server.status.node(id)?.initialSync, undefined, `${id} is done syncing`);
  });
}

test("a stream that never answers gives its slot up after initialSyncTimeoutMs; the next one is then served", { timeout: 60_000 }, async (t) => {
  const cache = await clusterCache();
  const { server, port, client } = await serveForTest(t, { cache, maxInitialSyncs: 1, initialSyncTimeoutMs: 200 });
  const silent = client(new RawXdsClient({ port, nodeId: "silent" }));
  const next = client(new RawXdsClient({ port, nodeId: "next" }));
  silent.send({ typeUrl: TypeUrl.Cluster });
  await silent.next(5000);
  next.send({ typeUrl: TypeUrl.Cluster });
  await until("next to queue", () => server.status.node("next")?.initialSync === "queued");
  const r = await next.next(5000);
  assert.equal(r.versionInfo, "v1");
  assert.equal(server.metrics.initialSyncTimeouts, 1);
  next.ack(r);
  await until("next to be done", () => server.metrics.syncingStreams === 0);
});

test("a stream whose node has nothing in the cache yet holds no slot; it queues again when its snapshot comes", { timeout: 60_000 }, async (t) => {
  const cache = createSnapshotCache();
  const resources = [encodeResource(ClusterSchema, create(ClusterSchema, { name: "c1" }))];
  await cache.setSnapshot("full", createSnapshot({ skipConsistencyCheck: true, version: "v1", resources }));
  // A timeout far beyond the waits below: only giving the slot back lets "full" through.
  const { server, port, client } = await serveForTest(t, { cache, maxInitialSyncs: 1, initialSyncTimeoutMs: 600_000 });
  const empty = client(new RawXdsClient({ port, nodeId: "empty" }));
  const full = client(new RawXdsClient({ port, nodeId: "full" }));
  empty.send({ typeUrl: TypeUrl.Cluster });
  await until("empty to be seen", () => server.status.node("empty") !== undefined);
  assert.equal(server.metrics.syncingStreams, 0, "nothing to send: no slot held");
  full.send({ typeUrl: TypeUrl.Cluster });
  const r = await full.next(5000);
  assert.equal(r.versionInfo, "v1");
  await cache.setSnapshot("empty", createSnapshot({ skipConsistencyCheck: true, version: "e1", resources }));
  await until("empty to queue behind full", () => server.status.node("empty")?.initialSync === "queued");
  full.ack(r);
  const e = await empty.next(5000);
  assert.equal(e.versionInfo, "e1");
  empty.ack(e);
  await until("every initial sync to end", () => server.metrics.syncingStreams === 0 && server.metrics.queuedStreams === 0);
});

test("a stream that closes while queued leaves the queue; one that closes while syncing frees its slot", { timeout: 60_000 }, async (t) => {
  const cache = await clusterCache();
  const { server, port, client } = await serveForTest(t, { cache, maxInitialSyncs: 1 });
  // first and second are closed by the test itself.
  const first = new RawXdsClient({ port, nodeId: "first" });
  const second = new RawXdsClient({ port, nodeId: "second" });
  const third = client(new RawXdsClient({ port, nodeId: "third" }));
  first.send({ typeUrl: TypeUrl.Cluster });
  await first.next(5000);
  second.send({ typeUrl: TypeUrl.Cluster });
  await until("second to queue", () => server.metrics.queuedStreams === 1);
  third.send({ typeUrl: TypeUrl.Cluster });
  await until("third to queue", () => server.metrics.queuedStreams === 2);
  second.close();
  await until("second to leave the queue", () => server.metrics.queuedStreams === 1);
  first.close();
  const r = await third.next(5000);
  assert.equal(r.versionInfo, "v1");
  assert.deepEqual(server.metrics.syncingStreams, 1);
});

test("with no storm nothing waits: a stream is admitted on its first request", { timeout: 60_000 }, async (t) => {
  const cache = await clusterCache();
  const { server, port, client } = await serveForTest(t, { cache });
  const c = client(new RawXdsClient({ port, nodeId: "n" }));
  c.send({ typeUrl: TypeUrl.Cluster });
  const r = await c.next(5000);
  assert.equal(server.metrics.queuedStreams, 0);
  assert.equal(server.metrics.syncingStreams, 1);
  c.ack(r);
  await until("the initial sync to end on the ACK", () => server.metrics.syncingStreams === 0);
});

test("load options out of range are misuse, named", () => {
  const cache = createSnapshotCache();
  for (const [options, message] of [
    [{ maxInitialSyncs: -1 }, /maxInitialSyncs must be an integer >= 0/],
    [{ initialSyncTimeoutMs: 0 }, /initialSyncTimeoutMs must be an integer >= 1/],
    [{ maxBufferedBytes: 100 }, /maxBufferedBytes must be an integer >= 1024/],
    [{ stuckStreamTimeoutMs: 1.5 }, /stuckStreamTimeoutMs must be an integer >= 0/],
    [{ maxStreams: -2 }, /maxStreams must be an integer >= 0/],
    [{ shedStreamsPerSecond: 0 }, /shedStreamsPerSecond must be an integer >= 1/],
  ] as const) {
    assert.throws(() => createXdsServer({ cache, ...options }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument" && message.test(e.message));
  }
});
