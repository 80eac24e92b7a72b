// What createXdsServer adds around its streams: status for oversized Delta
// parts, CSDS records kept clear of SotW TTL heartbeats, and the warming
// timeout both stream kinds take.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { createLinearCache } from "../cache/linear-cache.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { serveForTest } from "../../testing/serve-for-test.ts";
import { createXdsServer } from "./xds-server.ts";

const ports = (n: number) => Array.from({ length: n }, (_, i) => 20000 + i);

test("Delta: a single resource over maxResponseBytes still goes out alone, and status reports it until a later version is sent", async (t) => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("a-small", [1]), endpoints("b-huge", ports(300)), endpoints("c-small", [2])] });
  const { server, port, client } = await serveForTest(t, { cache, maxResponseBytes: 2048 });
  const c = client(new RawDeltaClient({ port, nodeId: "delta" }));
  const eds = () => server.status.node("delta")?.types.find((x) => x.typeUrl === TypeUrl.Endpoint);
  c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["a-small", "b-huge", "c-small"] });
  const parts = [await c.next(), await c.next(), await c.next()];
  assert.deepEqual(
    parts.map((p) => p.resources.map((r) => r.name)),
    [["a-small"], ["b-huge"], ["c-small"]],
  );
  for (const p of parts) c.ack(p);
  const error = eds()?.error;
  assert.equal(error?.code, "response_too_large");
  assert.match(error?.message ?? "", /b-huge alone makes a \d+-byte Delta response \(part 2 of 3\), over maxResponseBytes 2048/);
  assert.equal(error?.version, parts[0]?.systemVersionInfo, "kept although part 3 went out after it: same response");
  // The huge assignment shrinks: the next response delivers, the error is gone.
  await cache.updateResources({ upsert: [endpoints("b-huge", [3])] });
  c.ack(await c.next());
  assert.equal(eds()?.error, undefined);
});

test("SotW TTL heartbeats do not feed CSDS versions: while an update is held back, CSDS still reports what the node has", async (t) => {
  const cache = createSnapshotCache();
  const v1 = createSnapshot({ skipConsistencyCheck: true, version: "v1", resources: [encodeResource(ClusterSchema, edsCluster("ttl"), { ttlMs: 1000 })] });
  await cache.setSnapshot("n", v1);
  const { server, port, client } = await serveForTest(t, { cache, maxResponseBytes: 2048, heartbeatIntervalMs: 100 });
  const c = client(new RawXdsClient({ port, nodeId: "n" }));
  c.send({ typeUrl: TypeUrl.Cluster });
  c.ack(await c.next());
  assert.equal(server.resourceVersions.versionOf("n", TypeUrl.Cluster, "ttl"), "v1");
  // v2 changes the cluster and is too large to send; heartbeats resend the v1 cluster.
  const big = Array.from({ length: 60 }, (_, i) => edsCluster(`pad-${i}`));
  const changed = encodeResource(ClusterSchema, edsCluster("ttl", { serviceName: "changed" }), { ttlMs: 1000 });
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, version: "v2", resources: [changed, ...big] }));
  const beat = await c.next(1000);
  assert.equal(beat.versionInfo, "v1");
  c.ack(beat);
  assert.equal(server.resourceVersions.versionOf("n", TypeUrl.Cluster, "ttl"), "v1", "the node has v1's cluster, not v2's");
  assert.equal(server.status.node("n")?.types.find((x) => x.typeUrl === TypeUrl.Cluster)?.error?.version, "v2");
  // v3 fits and delivers the changed cluster: CSDS must say it came with v3
  // (had the heartbeat been recorded, the changed content would already count as sent at v1).
  await cache.setSnapshot("n", createSnapshot({ skipConsistencyCheck: true, version: "v3", resources: [changed] }));
  let r = await c.next(1000);
  while (r.versionInfo !== "v3") r = await c.next(1000);
  c.ack(r);
  assert.equal(server.resourceVersions.versionOf("n", TypeUrl.Cluster, "ttl"), "v3");
});

test("warmingTimeoutMs: listeners and routes held for endpoints a client never asks for go after it, on SotW and Delta", async (t) => {
  const cache = createSnapshotCache();
  const resources = (clusters: string[]) => createSnapshot({ resources: [...clusters.map((c) => edsCluster(c)), ...clusters.map((c) => endpoints(c)), httpListener("l1", "r1"), route("r1", clusters.at(-1) ?? "c1")] });
  await cache.setSnapshot("sotw", resources(["c1"]));
  await cache.setSnapshot("delta", resources(["c1"]));
  const { port, client } = await serveForTest(t, { cache, warmingTimeoutMs: 300 });
  const sotw = client(new RawXdsClient({ port, nodeId: "sotw" }));
  const delta = client(new RawDeltaClient({ port, nodeId: "delta" }));
  for (const [typeUrl, names] of [[TypeUrl.Cluster, []], [TypeUrl.Endpoint, ["c1"]], [TypeUrl.Route, ["r1"]]] as const) {
    sotw.send({ typeUrl, resourceNames: names });
    sotw.ack(await sotw.next(), names);
    delta.send({ typeUrl, subscribe: names });
    delta.ack(await delta.next());
  }
  await sotw.expectNone(50);
  const start = Date.now();
  await cache.setSnapshot("sotw", resources(["c1", "c2"]));
  await cache.setSnapshot("delta", resources(["c1", "c2"]));
  const [sotwCds, deltaCds] = [await sotw.next(), await delta.next()];
  assert.deepEqual([sotwCds.typeUrl, deltaCds.typeUrl], [TypeUrl.Cluster, TypeUrl.Cluster]);
  sotw.ack(sotwCds);
  delta.ack(deltaCds);
  // Neither asks for c2's endpoints: the route goes once the timeout passed.
  const [sotwRds, deltaRds] = [await sotw.next(2000), await delta.next(2000)];
  assert.deepEqual([sotwRds.typeUrl, deltaRds.typeUrl], [TypeUrl.Route, TypeUrl.Route]);
  assert.ok(Date.now() - start >= 250, `held for ${Date.now() - start} ms`);
});

test("a warmingTimeoutMs that is negative or not a number is misuse", () => {
  const cache = createSnapshotCache();
  for (const warmingTimeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => createXdsServer({ cache, warmingTimeoutMs }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
  }
});
