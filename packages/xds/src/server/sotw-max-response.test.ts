// maxResponseBytes over SotW, on the wire: a SotW response is the whole state
// and cannot be split, so one over the limit is not sent (kuma#16355: it would
// die silently in a client with a smaller gRPC limit). Status says why, the
// client keeps its last configuration, and the next response that fits clears it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { serveForTest } from "../../testing/serve-for-test.ts";
import type { SotwResponseEvent } from "./sotw-stream.ts";
import { createXdsServer } from "./xds-server.ts";

const clusters = (n: number) => Array.from({ length: n }, (_, i) => edsCluster(`cluster-${String(i).padStart(3, "0")}`));

test("a SotW response over maxResponseBytes is not sent: error in status, last config kept, cleared by the next one that fits", async (t) => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, resources: clusters(3) }));
  const events: SotwResponseEvent[] = [];
  const { server, port, client } = await serveForTest(t, { cache, maxResponseBytes: 2048, hooks: { onResponse: (e) => events.push(e as SotwResponseEvent) } });
  const c = client(new RawXdsClient({ port, nodeId: "n" }));
  const cds = () => server.status.node("n")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
  c.send({ typeUrl: TypeUrl.Cluster });
  const good = await c.next();
  assert.equal(good.resources.length, 3);
  c.ack(good);

  // 60 clusters do not fit in 2 KiB: nothing is written, whatever the client asks.
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, resources: clusters(60) }));
  await c.expectNone(300);
  const error = cds()?.error;
  assert.equal(error?.code, "response_too_large");
  assert.match(error?.message ?? "", /over maxResponseBytes 2048/);
  assert.notEqual(error?.version, good.versionInfo, "the error names the version that could not be sent");
  assert.equal(cds()?.sentVersion, good.versionInfo, "status still says what the node has");
  assert.equal(cds()?.ackedVersion, good.versionInfo);
  assert.equal(events.length, 1, "no response event for what was not sent");
  assert.ok(error?.at instanceof Date);
  // A request of the type is not a reason to try again in a loop.
  c.send({ typeUrl: TypeUrl.Cluster, versionInfo: good.versionInfo, responseNonce: good.nonce });
  await c.expectNone(200);

  // A configuration that fits goes out and clears the error.
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, resources: clusters(5) }));
  const next = await c.next();
  assert.equal(next.resources.length, 5);
  assert.equal(cds()?.error, undefined);
  assert.ok(events.every((e) => e.bytes <= 2048));
});

test("a first SotW response over the limit is not sent either; other nodes are served", async (t) => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("big", createSnapshot({ skipConsistencyCheck: true, resources: clusters(60) }));
  await cache.setSnapshot("small", createSnapshot({ skipConsistencyCheck: true, resources: clusters(2) }));
  const { server, port, client } = await serveForTest(t, { cache, maxResponseBytes: 2048 });
  const big = client(new RawXdsClient({ port, nodeId: "big" }));
  const small = client(new RawXdsClient({ port, nodeId: "small" }));
  big.send({ typeUrl: TypeUrl.Cluster });
  small.send({ typeUrl: TypeUrl.Cluster });
  assert.equal((await small.next()).resources.length, 2);
  await big.expectNone(300);
  const s = server.status.node("big")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
  assert.equal(s?.error?.code, "response_too_large");
  assert.equal(s?.responses, 0);
});

test("a limit below 1024 bytes is misuse", () => {
  const cache = createSnapshotCache();
  assert.throws(() => createXdsServer({ cache, maxResponseBytes: 100 }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
});

test("while an update is too large, heartbeats keep the TTLs of what the client has, and do not clear the error", async (t) => {
  const cache = createSnapshotCache();
  const ttl = encodeResource(ClusterSchema, edsCluster("ttl"), { ttlMs: 1000 });
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, resources: [ttl] }));
  const events: SotwResponseEvent[] = [];
  const { server, port, client } = await serveForTest(t, { cache, maxResponseBytes: 2048, heartbeatIntervalMs: 100, hooks: { onResponse: (e) => events.push(e as SotwResponseEvent) } });
  const c = client(new RawXdsClient({ port, nodeId: "n" }));
  c.send({ typeUrl: TypeUrl.Cluster });
  const good = await c.next();
  c.ack(good);
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, resources: [ttl, ...clusters(60)] }));
  const beat = await c.next(1000);
  assert.equal(beat.versionInfo, good.versionInfo, "the heartbeat resends what the client has");
  assert.equal(beat.resources.length, 1);
  assert.deepEqual(events.at(-1)?.heartbeats, ["ttl"]);
  const cds = server.status.node("n")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
  assert.equal(cds?.error?.code, "response_too_large", "a heartbeat does not deliver the update, so the error stays");
});
