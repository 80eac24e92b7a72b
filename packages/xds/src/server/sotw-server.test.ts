// The SotW rules of docs/xds-protocol.md, each driven through a raw
// client on the wire against the real server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";
import type { NackEvent } from "./xds-hooks.ts";

const names = (r: { resources: { value: Uint8Array }[] }): string[] => r.resources.map((a) => fromBinary(ClusterSchema, a.value).name);

function fullSnapshot(tag: string, clusters: readonly string[] = ["c1"]): Snapshot {
  return createSnapshot({
    resources: [
      ...clusters.map((c) => edsCluster(c)),
      ...clusters.map((c) => endpoints(c, [tag === "a" ? 8080 : 8081])),
      httpListener("l1", "r1"),
      route("r1", clusters[0] ?? "c1"),
    ],
  });
}

describe("SotW xDS server", () => {
  let cache: SnapshotCache;
  let server: XdsServer;
  let port: number;
  const nacks: NackEvent[] = [];
  const clients: RawXdsClient[] = [];
  const connect = (options: { path?: string; nodeId?: string } = {}): RawXdsClient => {
    const c = new RawXdsClient({ port, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    cache = createSnapshotCache();
    server = createXdsServer({
      cache,
      controlPlaneId: "test-replica",
      maxReceiveMessageBytes: 64 * 1024,
      hooks: {
        onNack: (e) => nacks.push(e),
        onRequest: () => {
          throw new Error("a broken hook must not break the stream");
        },
      },
    });
    port = await server.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });

  test("a request waits while the node has no snapshot, and is answered when one is set", async () => {
    const c = connect({ nodeId: "late" });
    c.send({ typeUrl: TypeUrl.Cluster });
    await c.expectNone(200);
    await cache.setSnapshot("late", fullSnapshot("a"));
    const r = await c.next();
    assert.equal(r.typeUrl, TypeUrl.Cluster);
    assert.deepEqual(names(r), ["c1"]);
    assert.equal(r.controlPlane?.identifier, "test-replica");
  });

  test("node is remembered from the first request of the stream", async () => {
    await cache.setSnapshot("n1", fullSnapshot("a"));
    const c = connect({ nodeId: "n1" });
    c.send({ typeUrl: TypeUrl.Cluster });
    const r = await c.next();
    c.ack(r);
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["c1"] }); // no node on this one
    const e = await c.next();
    assert.equal(e.typeUrl, TypeUrl.Endpoint);
    assert.equal(server.status.node("n1")?.streams, 1);
  });

  test("legacy wildcard is per type: empty CDS means all clusters, empty EDS means none", async () => {
    await cache.setSnapshot("wc", fullSnapshot("a", ["c1", "c2"]));
    const c = connect({ nodeId: "wc" });
    c.send({ typeUrl: TypeUrl.Endpoint });
    await c.expectNone(200);
    c.send({ typeUrl: TypeUrl.Cluster });
    assert.deepEqual(names(await c.next()), ["c1", "c2"]);
  });

  test("an unchanged set is not resent on ACK; a change is pushed; LDS/CDS carry the full set", async () => {
    await cache.setSnapshot("full", fullSnapshot("a", ["c1", "c2"]));
    const c = connect({ nodeId: "full" });
    c.send({ typeUrl: TypeUrl.Cluster });
    const r1 = await c.next();
    c.ack(r1);
    await c.expectNone(200);
    await cache.setSnapshot("full", fullSnapshot("a", ["c1", "c3"]));
    const r2 = await c.next();
    assert.deepEqual(names(r2), ["c1", "c3"]);
    assert.notEqual(r2.versionInfo, r1.versionInfo);
  });

  test("a stale nonce does not trigger a response", async () => {
    await cache.setSnapshot("stale", fullSnapshot("a"));
    const c = connect({ nodeId: "stale" });
    c.send({ typeUrl: TypeUrl.Cluster });
    const r1 = await c.next();
    await cache.setSnapshot("stale", fullSnapshot("b", ["c1", "c9"]));
    const r2 = await c.next();
    // A request that answers r1 arrives after r2 was sent: it is stale.
    c.send({ typeUrl: TypeUrl.Cluster, versionInfo: r1.versionInfo, responseNonce: r1.nonce, resourceNames: ["zzz"] });
    await c.expectNone(250);
    c.ack(r2);
    await c.expectNone(250);
  });

  test("a NACK is recorded with Envoy's message and never answered by resending the same bytes", async () => {
    await cache.setSnapshot("nack", fullSnapshot("a"));
    const c = connect({ nodeId: "nack" });
    c.send({ typeUrl: TypeUrl.Cluster });
    const r1 = await c.next();
    c.ack(r1);
    await c.expectNone(100); // let the ACK land before the next push, or it would be stale
    await cache.setSnapshot("nack", fullSnapshot("a", ["c1", "bad"]));
    const r2 = await c.next();
    // The NACK echoes the last accepted version with error_detail set.
    c.send({ typeUrl: TypeUrl.Cluster, versionInfo: r1.versionInfo, responseNonce: r2.nonce, errorMessage: "cluster bad: boom" });
    await c.expectNone(400);
    const t = server.status.node("nack")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
    assert.equal(t?.lastNack?.message, "cluster bad: boom");
    assert.equal(t?.lastNack?.version, r2.versionInfo);
    assert.equal(t?.nacked, true);
    assert.equal(t?.ackedVersion, r1.versionInfo);
    assert.equal(nacks.at(-1)?.message, "cluster bad: boom");
    // A fixed configuration is sent.
    await cache.setSnapshot("nack", fullSnapshot("a", ["c1", "good"]));
    assert.deepEqual(names(await c.next()), ["c1", "good"]);
  });

  test("after a NACK, removing the rejected resource of a non-full-state type is sent, so the node can ACK (issue 8)", async () => {
    const routes = (...names: string[]) => createSnapshot({ resources: [edsCluster("c1"), endpoints("c1", [8080]), httpListener("l1", "r1"), ...names.map((n) => route(n, "c1"))] });
    await cache.setSnapshot("nack-gone", routes("r1", "r2"));
    const c = connect({ nodeId: "nack-gone" });
    c.send({ typeUrl: TypeUrl.Route, resourceNames: ["r1", "r2"] });
    const r1 = await c.next();
    c.send({ typeUrl: TypeUrl.Route, versionInfo: "", responseNonce: r1.nonce, resourceNames: ["r1", "r2"], errorMessage: "r2: bad regex" });
    await c.expectNone(200);
    // r2 goes: only a shrink, which SotW never sends by itself; after a NACK it is sent.
    await cache.setSnapshot("nack-gone", routes("r1"));
    const r2 = await c.next();
    assert.equal(r2.typeUrl, TypeUrl.Route);
    assert.equal(r2.resources.length, 1);
    c.ack(r2);
    await c.expectNone(200);
    const t = server.status.node("nack-gone")?.types.find((x) => x.typeUrl === TypeUrl.Route);
    assert.equal(t?.nacked, false);
    assert.equal(t?.ackedVersion, r2.versionInfo);
    // A change to nothing the node asks for sends nothing, and says the node is current there.
    await cache.setSnapshot("nack-gone", routes("r1", "r9"));
    await c.expectNone(200);
    const current = cache.getSnapshot("nack-gone")?.typeVersion(TypeUrl.Route);
    assert.equal(server.status.node("nack-gone")?.types.find((x) => x.typeUrl === TypeUrl.Route)?.settledVersion, current);
  });

  test("subscriptions to names that do not exist yet are remembered and answered when they appear", async () => {
    await cache.setSnapshot("future", fullSnapshot("a"));
    const c = connect({ nodeId: "future" });
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["later"] });
    await c.expectNone(200);
    await cache.setSnapshot("future", fullSnapshot("a", ["c1", "later"]));
    const r = await c.next();
    assert.equal(r.typeUrl, TypeUrl.Endpoint);
    assert.equal(r.resources.length, 1);
  });

  test("names dropped from the subscription and asked again are resent (#431)", async () => {
    await cache.setSnapshot("resub", fullSnapshot("a", ["c1", "c2"]));
    const c = connect({ nodeId: "resub" });
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["c1", "c2"] });
    const r1 = await c.next();
    assert.equal(r1.resources.length, 2);
    c.ack(r1, ["c1"]);
    await c.expectNone(200);
    c.ack(r1, ["c1", "c2"]);
    const r2 = await c.next();
    assert.equal(r2.resources.length, 2);
  });

  test("ADS pushes a change in CDS, EDS, LDS, RDS order", async () => {
    await cache.setSnapshot("order", fullSnapshot("a"));
    const c = connect({ nodeId: "order" });
    // Subscribe in reverse order to prove the server, not the client, orders.
    c.send({ typeUrl: TypeUrl.Route, resourceNames: ["r1", "r2"] });
    c.ack(await c.next(), ["r1", "r2"]);
    c.send({ typeUrl: TypeUrl.Listener });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["c1", "c2"] });
    c.ack(await c.next(), ["c1", "c2"]);
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    await c.expectNone(100);
    await cache.setSnapshot(
      "order",
      createSnapshot({ resources: [edsCluster("c2"), endpoints("c2", [9]), httpListener("l1", "r2", 10001), route("r2", "c2")] }),
    );
    const cds = await c.next();
    assert.equal(cds.typeUrl, TypeUrl.Cluster);
    // The removal of c1 is held back until the listener and route that replace it went out.
    assert.deepEqual(names(cds), ["c1", "c2"]);
    assert.equal((await c.next()).typeUrl, TypeUrl.Endpoint, "endpoints do not wait for the cluster ACK");
    // The endpoints of the new cluster c2 went out: listeners and routes may
    // follow, without waiting for the cluster ACK (the tests below hold them).
    assert.equal((await c.next()).typeUrl, TypeUrl.Listener);
    assert.equal((await c.next()).typeUrl, TypeUrl.Route);
    const final = await c.next();
    assert.equal(final.typeUrl, TypeUrl.Cluster);
    assert.deepEqual(names(final), ["c2"]);
  });

  /** A client holding c1 on every type, then c2 appears and the route moves to it; returns the last EDS response and the CDS response of the change. */
  async function newClusterForRoute(c: RawXdsClient, nodeId: string) {
    await cache.setSnapshot(nodeId, fullSnapshot("a"));
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["c1"] });
    const eds = await c.next();
    c.ack(eds, ["c1"]);
    c.send({ typeUrl: TypeUrl.Route, resourceNames: ["r1"] });
    c.ack(await c.next(), ["r1"]);
    await c.expectNone(100);
    await cache.setSnapshot(nodeId, createSnapshot({ resources: [edsCluster("c1"), edsCluster("c2"), endpoints("c1", [8080]), endpoints("c2"), httpListener("l1", "r1"), route("r1", "c2")] }));
    const cds = await c.next();
    assert.deepEqual([cds.typeUrl, names(cds)], [TypeUrl.Cluster, ["c1", "c2"]]);
    return { eds, cds };
  }

  test("ADS holds routes until the client asked for and got the endpoints of a new cluster, ACK or not (#526, #705, #800)", async () => {
    const c = connect({ nodeId: "warm" });
    const { eds, cds } = await newClusterForRoute(c, "warm");
    await c.expectNone(200); // the route waits: c2 is still warming on the client
    c.ack(cds);
    await c.expectNone(150); // the ACK says nothing about c2's endpoints
    c.ack(eds, ["c1", "c2"]); // what Envoy does while warming c2
    const next = await c.next();
    assert.equal(next.typeUrl, TypeUrl.Endpoint);
    assert.deepEqual((await c.next()).typeUrl, TypeUrl.Route);
  });

  test("a NACKed cluster update releases the routes held for its endpoints", async () => {
    const c = connect({ nodeId: "warm-nack" });
    const { cds } = await newClusterForRoute(c, "warm-nack");
    await c.expectNone(150);
    c.send({ typeUrl: TypeUrl.Cluster, versionInfo: "", responseNonce: cds.nonce, errorMessage: "c2 rejected" });
    assert.equal((await c.next()).typeUrl, TypeUrl.Route);
  });

  test("an ADS request without type_url ends that stream with INVALID_ARGUMENT, others keep being served", async () => {
    await cache.setSnapshot("ok", fullSnapshot("a"));
    const good = connect({ nodeId: "ok" });
    good.send({ typeUrl: TypeUrl.Cluster });
    good.ack(await good.next());
    const bad = connect({ nodeId: "bad" });
    bad.send({});
    const status = await bad.ended;
    assert.equal(status.code, 3);
    assert.match(status.details, /type_url/);
    await cache.setSnapshot("ok", fullSnapshot("a", ["c7"]));
    assert.deepEqual(names(await good.next()), ["c7"]);
  });

  test("garbage bytes, unknown type URLs, a first request without node and huge messages end only their stream", async () => {
    const garbage = connect();
    garbage.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    assert.equal((await garbage.ended).code, 3);
    const unknown = connect();
    unknown.send({ typeUrl: "type.googleapis.com/no.such.Type" });
    assert.match((await unknown.ended).details, /unknown type_url/);
    const huge = connect();
    huge.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["x".repeat(100 * 1024)] });
    assert.equal((await huge.ended).code, 8);
    await cache.setSnapshot("survivor", fullSnapshot("a"));
    const survivor = connect({ nodeId: "survivor" });
    survivor.send({ typeUrl: TypeUrl.Cluster });
    assert.deepEqual(names(await survivor.next()), ["c1"]);
  });

  test("per-type services fill in their type and refuse others", async () => {
    await cache.setSnapshot("pt", fullSnapshot("a"));
    const cds = connect({ nodeId: "pt", path: "/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters" });
    cds.send({});
    assert.deepEqual(names(await cds.next()), ["c1"]);
    const wrong = connect({ nodeId: "pt", path: "/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters" });
    wrong.send({ typeUrl: TypeUrl.Listener });
    assert.equal((await wrong.ended).code, 3);
  });

  test("every stream is sent the same encoded body: resources are encoded once", async () => {
    await cache.setSnapshot("shared", fullSnapshot("a", ["s1", "s2", "s3"]));
    const before = server.metrics.bodiesEncoded;
    const a = connect({ nodeId: "shared" });
    const b = connect({ nodeId: "shared" });
    a.send({ typeUrl: TypeUrl.Cluster });
    b.send({ typeUrl: TypeUrl.Cluster });
    const [ra, rb] = [await a.next(), await b.next()];
    assert.deepEqual(names(ra), names(rb));
    assert.equal(server.metrics.bodiesEncoded - before, 1);
  });

  test("closing a stream releases its watch and its place in status", async () => {
    await cache.setSnapshot("closing", fullSnapshot("a"));
    const c = connect({ nodeId: "closing" });
    c.send({ typeUrl: TypeUrl.Cluster });
    await c.next();
    assert.equal(server.status.node("closing")?.streams, 1);
    c.close();
    for (let i = 0; i < 50 && server.status.node("closing")?.streams !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.status.node("closing")?.streams, 0);
  });
});

describe("SotW xDS server lifecycle", () => {
  test("rekey moves a connected node to the key that now serves it", async () => {
    let group = "blue";
    const cache = createSnapshotCache({ nodeKey: () => group });
    const server = createXdsServer({ cache });
    const port = await server.listen({ port: 0 });
    const c = new RawXdsClient({ port, nodeId: "n" });
    try {
      await cache.setSnapshot("blue", fullSnapshot("a", ["blue-cluster"]));
      await cache.setSnapshot("green", fullSnapshot("a", ["green-cluster"]));
      c.send({ typeUrl: TypeUrl.Cluster });
      const first = await c.next();
      assert.deepEqual(names(first), ["blue-cluster"]);
      c.ack(first);
      group = "green";
      server.rekey();
      assert.deepEqual(names(await c.next()), ["green-cluster"]);
      assert.equal(server.status.node("n")?.cacheKey, "green");
    } finally {
      c.close();
      await server.close();
    }
  });

  test("close ends open streams with UNAVAILABLE at once instead of waiting out the grace period", async () => {
    const cache = createSnapshotCache();
    const server = createXdsServer({ cache });
    const port = await server.listen({ port: 0 });
    await cache.setSnapshot("n", fullSnapshot("a"));
    const c = new RawXdsClient({ port, nodeId: "n" });
    c.send({ typeUrl: TypeUrl.Cluster });
    await c.next();
    const started = Date.now();
    await server.close({ graceMs: 5000 });
    assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`);
    assert.equal((await c.ended).code, 14);
    c.close();
  });
});
