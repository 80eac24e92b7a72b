// The Delta rules of docs/xds-protocol.md, each driven through a raw
// Delta client on the wire against the real server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { deltaNames, RawDeltaClient } from "../../testing/raw-delta-client.ts";
import type { DeltaRequestEvent, DeltaResponseEvent } from "./delta-stream.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";
import type { NackEvent, ResponseEvent } from "./xds-hooks.ts";

function fullSnapshot(clusters: readonly string[] = ["c1"], port = 8080): Snapshot {
  return createSnapshot({
    resources: [
      ...clusters.map((c) => edsCluster(c)),
      ...clusters.map((c) => endpoints(c, [port])),
      httpListener("l1", "r1"),
      route("r1", clusters[0] ?? "c1"),
    ],
  });
}

describe("Delta xDS server", () => {
  let cache: SnapshotCache;
  let server: XdsServer;
  let port: number;
  const nacks: NackEvent[] = [];
  const responses: ResponseEvent[] = [];
  const requests: DeltaRequestEvent[] = [];
  const clients: RawDeltaClient[] = [];
  const connect = (options: { path?: string; nodeId?: string } = {}): RawDeltaClient => {
    const c = new RawDeltaClient({ port, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    cache = createSnapshotCache();
    server = createXdsServer({
      cache,
      controlPlaneId: "delta-replica",
      hooks: {
        onNack: (e) => nacks.push(e),
        onResponse: (e) => responses.push(e),
        onRequest: (e) => {
          if (e.variant === "delta") requests.push(e as DeltaRequestEvent);
        },
      },
    });
    port = await server.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });

  test("legacy wildcard CDS gets every cluster with per-resource versions, from Resource wrappers", async () => {
    const s = fullSnapshot(["c1", "c2"]);
    await cache.setSnapshot("wc", s);
    const c = connect({ nodeId: "wc" });
    c.send({ typeUrl: TypeUrl.Cluster });
    const r = await c.next();
    assert.equal(r.typeUrl, TypeUrl.Cluster);
    assert.deepEqual(deltaNames(r), ["c1", "c2"]);
    assert.equal(r.resources[0]?.version, s.resources(TypeUrl.Cluster).get("c1")?.version);
    assert.equal(r.resources[0]?.resource?.typeUrl, TypeUrl.Cluster);
    assert.equal(r.systemVersionInfo, s.typeVersion(TypeUrl.Cluster));
    assert.equal(r.controlPlane?.identifier, "delta-replica");
    assert.deepEqual(r.removedResources, []);
  });

  test("an empty first EDS request subscribes to nothing; names are subscribed incrementally", async () => {
    await cache.setSnapshot("inc", fullSnapshot(["c1", "c2"]));
    const c = connect({ nodeId: "inc" });
    c.send({ typeUrl: TypeUrl.Endpoint });
    await c.expectNone(200);
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"] });
    const r1 = await c.next();
    assert.deepEqual(deltaNames(r1), ["c1"]);
    c.ack(r1, { subscribe: ["c2"] });
    const r2 = await c.next();
    assert.deepEqual(deltaNames(r2), ["c2"], "only the newly subscribed name, not c1 again");
  });

  test("a subscribed name that does not exist is reported removed once, and sent when it appears (#565)", async () => {
    await cache.setSnapshot("ghost", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "ghost" });
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1", "later"] });
    const r1 = await c.next();
    assert.deepEqual(deltaNames(r1), ["c1"]);
    assert.deepEqual(r1.removedResources, ["later"]);
    c.ack(r1);
    await cache.setSnapshot("ghost", fullSnapshot(["c1"], 9090)); // c1 changes, "later" still missing
    const r2 = await c.next();
    assert.deepEqual(deltaNames(r2), ["c1"]);
    assert.deepEqual(r2.removedResources, [], "the missing name is not reported again");
    c.ack(r2);
    await cache.setSnapshot("ghost", fullSnapshot(["c1", "later"], 9090));
    const r3 = await c.next();
    assert.deepEqual(deltaNames(r3), ["later"]);
  });

  test("only changed resources are sent; deletions arrive as removed_resources; nothing unchanged is resent", async () => {
    await cache.setSnapshot("chg", fullSnapshot(["c1", "c2", "c3"]));
    const c = connect({ nodeId: "chg" });
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1", "c2", "c3"] });
    const r1 = await c.next();
    assert.deepEqual(deltaNames(r1), ["c1", "c2", "c3"]);
    c.ack(r1);
    await c.expectNone(150);
    const next = createSnapshot({
      resources: [edsCluster("c1"), edsCluster("c2"), endpoints("c1", [8080]), endpoints("c2", [7777]), httpListener("l1", "r1"), route("r1", "c1")],
    });
    await cache.setSnapshot("chg", next);
    const r2 = await c.next();
    assert.deepEqual(deltaNames(r2), ["c2"]);
    assert.deepEqual(r2.removedResources, ["c3"]);
    c.ack(r2);
    await cache.setSnapshot("chg", next);
    await c.expectNone(250);
  });

  test("on reconnect, initial_resource_versions is honoured: unchanged resources are not resent", async () => {
    const s = fullSnapshot(["c1", "c2"]);
    await cache.setSnapshot("re", s);
    const versions = Object.fromEntries([...s.resources(TypeUrl.Cluster).values()].map((r) => [r.name, r.version]));
    const c = connect({ nodeId: "re" });
    c.send({ typeUrl: TypeUrl.Cluster, initialResourceVersions: { ...versions, c2: "stale-version", gone: "x" } });
    const r = await c.next();
    assert.deepEqual(deltaNames(r), ["c2"], "only the resource whose version differs");
    assert.deepEqual(r.removedResources, ["gone"], "what the client holds and no longer exists is removed");
    assert.deepEqual(requests.find((e) => e.nodeId === "re")?.initialResourceVersions, { ...versions, c2: "stale-version", gone: "x" });
    const e = connect({ nodeId: "re" });
    e.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"], initialResourceVersions: { c1: s.resources(TypeUrl.Endpoint).get("c1")?.version ?? "" } });
    await e.expectNone(200);
  });

  // Issue 10: Envoy fails over to a replica serving the same content; it names
  // what it holds, nothing is sent, and status must say it is current there
  // (it used to stay STALE until the next change, as no response was ever ACKed).
  test("a reconnecting client holding the current version of what it names gets nothing and is settled at the current version", async () => {
    const s = fullSnapshot(["c1"]);
    await cache.setSnapshot("failover", s);
    const c = connect({ nodeId: "failover" });
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"], initialResourceVersions: { c1: s.resources(TypeUrl.Endpoint).get("c1")?.version ?? "" } });
    await c.expectNone(200);
    const current = cache.getSnapshot("failover")?.typeVersion(TypeUrl.Endpoint);
    const t = server.status.node("failover")?.types.find((x) => x.typeUrl === TypeUrl.Endpoint);
    assert.equal(t?.settledVersion, current);
    assert.equal(t?.sentVersion, undefined, "nothing was sent");
    // Holding an older version is not settled: that client is sent the current one.
    const old = connect({ nodeId: "failover-old" });
    await cache.setSnapshot("failover-old", s);
    old.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"], initialResourceVersions: { c1: "older" } });
    assert.deepEqual(deltaNames(await old.next()), ["c1"]);
    assert.equal(server.status.node("failover-old")?.types.find((x) => x.typeUrl === TypeUrl.Endpoint)?.settledVersion, undefined);
  });

  test("a wildcard CDS with nothing to send is still answered once, so Envoy finishes initialising", async () => {
    const s = fullSnapshot(["c1"]);
    await cache.setSnapshot("empty-first", s);
    const c = connect({ nodeId: "empty-first" });
    c.send({ typeUrl: TypeUrl.Cluster, initialResourceVersions: { c1: s.resources(TypeUrl.Cluster).get("c1")?.version ?? "" } });
    const r = await c.next();
    assert.deepEqual(deltaNames(r), []);
    assert.deepEqual(r.removedResources, []);
    c.ack(r);
    await c.expectNone(200);
  });

  test("a wildcard client that unsubscribes one name gets it back (#558, #583)", async () => {
    await cache.setSnapshot("unsub", fullSnapshot(["c1", "c2"]));
    const c = connect({ nodeId: "unsub" });
    c.send({ typeUrl: TypeUrl.Cluster, subscribe: ["*"] });
    const r1 = await c.next();
    assert.deepEqual(deltaNames(r1), ["c1", "c2"]);
    c.ack(r1, { unsubscribe: ["c2"] });
    const r2 = await c.next();
    assert.deepEqual(deltaNames(r2), ["c2"]);
    // Unsubscribing "*" itself stops the wildcard: new clusters are no longer sent.
    c.ack(r2, { unsubscribe: ["*"] });
    await c.expectNone(100); // let the unsubscription land before the change
    await cache.setSnapshot("unsub", fullSnapshot(["c1", "c2", "c3"]));
    await c.expectNone(250);
  });

  test("subscription changes on a stale nonce are applied, but the stale nonce is neither ACK nor NACK", async () => {
    await cache.setSnapshot("stale", fullSnapshot(["c1", "c2"]));
    const c = connect({ nodeId: "stale" });
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"] });
    const r1 = await c.next();
    c.ack(r1);
    await c.expectNone(100);
    await cache.setSnapshot("stale", fullSnapshot(["c1", "c2"], 9191));
    const r2 = await c.next();
    const acksBefore = server.status.node("stale")?.types.find((t) => t.typeUrl === TypeUrl.Endpoint);
    // Answers r1 (stale: r2 is the latest) with a NACK and a new subscription.
    c.send({ typeUrl: TypeUrl.Endpoint, responseNonce: r1.nonce, subscribe: ["c2"], errorMessage: "late complaint" });
    const r3 = await c.next();
    assert.deepEqual(deltaNames(r3), ["c2"], "the subscription in the stale request was applied");
    const after = server.status.node("stale")?.types.find((t) => t.typeUrl === TypeUrl.Endpoint);
    assert.equal(after?.nacks, 0, "a stale nonce never counts as a NACK");
    assert.equal(after?.ackedVersion, acksBefore?.ackedVersion, "nor as an ACK");
    c.ack(r2);
    c.ack(r3);
    await c.expectNone(150);
  });

  test("a NACK is recorded in status and hooks and never answered by resending", async () => {
    await cache.setSnapshot("nack", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "nack" });
    c.send({ typeUrl: TypeUrl.Cluster });
    const r1 = await c.next();
    c.ack(r1);
    await c.expectNone(100);
    const bad = fullSnapshot(["c1", "bad"]);
    await cache.setSnapshot("nack", bad);
    const r2 = await c.next();
    assert.deepEqual(deltaNames(r2), ["bad"]);
    c.nack(r2, "cluster bad: boom");
    await c.expectNone(400);
    const t = server.status.node("nack")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
    assert.equal(t?.nacked, true);
    assert.equal(t?.lastNack?.message, "cluster bad: boom");
    assert.equal(t?.lastNack?.version, bad.typeVersion(TypeUrl.Cluster));
    assert.equal(t?.ackedVersion, r1.systemVersionInfo);
    assert.equal(nacks.at(-1)?.message, "cluster bad: boom");
    await cache.setSnapshot("nack", fullSnapshot(["c1", "good"]));
    const r3 = await c.next();
    assert.deepEqual(deltaNames(r3), ["good"]);
    assert.deepEqual(r3.removedResources, ["bad"]);
  });

  test("after a NACK, a client that stops asking for what it rejected gets an empty response to ACK, leaving NACKED (issue 8)", async () => {
    const routes = createSnapshot({ resources: [edsCluster("c1"), endpoints("c1", [8080]), httpListener("l1", "r1"), route("r1", "c1"), route("r2", "c1")] });
    await cache.setSnapshot("nack-gone", routes);
    const c = connect({ nodeId: "nack-gone" });
    c.send({ typeUrl: TypeUrl.Route, subscribe: ["r1"] });
    c.ack(await c.next());
    await c.expectNone(100);
    c.send({ typeUrl: TypeUrl.Route, subscribe: ["r2"] });
    const r2 = await c.next();
    assert.deepEqual(deltaNames(r2), ["r2"]);
    c.nack(r2, "r2: bad regex");
    await c.expectNone(200);
    assert.equal(server.status.node("nack-gone")?.types.find((x) => x.typeUrl === TypeUrl.Route)?.nacked, true);
    // The listener that used r2 went: the client unsubscribes, and nothing is left to send but an ACK to earn.
    c.send({ typeUrl: TypeUrl.Route, unsubscribe: ["r2"] });
    const empty = await c.next();
    assert.deepEqual([empty.resources.length, empty.removedResources], [0, []]);
    c.ack(empty);
    await c.expectNone(200);
    const t = server.status.node("nack-gone")?.types.find((x) => x.typeUrl === TypeUrl.Route);
    assert.equal(t?.nacked, false);
    assert.equal(t?.ackedVersion, routes.typeVersion(TypeUrl.Route));
  });

  test("Delta ADS pushes in CDS, EDS, LDS, RDS order and removes the old cluster last (make before break)", async () => {
    await cache.setSnapshot("order", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "order" });
    c.send({ typeUrl: TypeUrl.Route, subscribe: ["r1", "r2"] });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Listener });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1", "c2"] });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    await c.expectNone(100);
    await cache.setSnapshot(
      "order",
      createSnapshot({ resources: [edsCluster("c2"), endpoints("c2", [9]), httpListener("l1", "r2", 10001), route("r2", "c2")] }),
    );
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await c.next();
      got.push(`${r.typeUrl.slice(r.typeUrl.lastIndexOf(".") + 1)}:${deltaNames(r).join(",")}:-${r.removedResources.join(",")}`);
    }
    // c1 and its endpoints are removed only once the listener and route moved away from them.
    assert.deepEqual(got, [
      "Cluster:c2:-",
      "ClusterLoadAssignment:c2:-",
      "Listener:l1:-",
      "RouteConfiguration:r2:-r1",
      "Cluster::-c1",
      "ClusterLoadAssignment::-c1",
    ]);
  });

  test("ADS holds routes until the client asked for and got the endpoints of a new cluster (#526, #705, #800)", async () => {
    await cache.setSnapshot("warm", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "warm" });
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"] });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Route, subscribe: ["r1"] });
    c.ack(await c.next());
    await c.expectNone(100);
    // c2 appears and the route moves to it.
    await cache.setSnapshot("warm", createSnapshot({ resources: [edsCluster("c1"), edsCluster("c2"), endpoints("c1"), endpoints("c2"), httpListener("l1", "r1"), route("r1", "c2")] }));
    const cds = await c.next();
    assert.deepEqual([cds.typeUrl, deltaNames(cds)], [TypeUrl.Cluster, ["c2"]]);
    await c.expectNone(200); // the route waits: c2 is still warming on the client
    c.ack(cds, {});
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c2"] }); // what Envoy does while warming c2
    const eds = await c.next();
    assert.deepEqual([eds.typeUrl, deltaNames(eds)], [TypeUrl.Endpoint, ["c2"]]);
    const rds = await c.next();
    assert.deepEqual([rds.typeUrl, deltaNames(rds)], [TypeUrl.Route, ["r1"]]);
  });

  test("while routes are held for a new cluster's endpoints, removing the old cluster waits too", async () => {
    await cache.setSnapshot("warm-rm", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "warm-rm" });
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"] });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Route, subscribe: ["r1"] });
    c.ack(await c.next());
    await c.expectNone(100);
    const both = [edsCluster("c1"), edsCluster("c2"), endpoints("c1"), endpoints("c2"), httpListener("l1", "r1"), route("r1", "c2")];
    await cache.setSnapshot("warm-rm", createSnapshot({ resources: both }));
    c.ack(await c.next()); // CDS [c2]; the route is held
    await c.expectNone(100);
    await cache.setSnapshot("warm-rm", createSnapshot({ resources: [edsCluster("c2"), endpoints("c2"), httpListener("l1", "r1"), route("r1", "c2")] }));
    await c.expectNone(200); // c1's removal must not overtake the held route
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c2"] });
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await c.next();
      got.push(`${r.typeUrl.slice(r.typeUrl.lastIndexOf(".") + 1)}:${deltaNames(r).join(",")}:-${r.removedResources.join(",")}`);
    }
    assert.deepEqual(got, ["ClusterLoadAssignment:c2:-", "RouteConfiguration:r1:-", "Cluster::-c1", "ClusterLoadAssignment::-c1"]);
  });

  test("a NACKed cluster releases the routes held for its endpoints", async () => {
    await cache.setSnapshot("warm-nack", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "warm-nack" });
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"] });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Route, subscribe: ["r1"] });
    c.ack(await c.next());
    await c.expectNone(100);
    await cache.setSnapshot("warm-nack", createSnapshot({ resources: [edsCluster("c1"), edsCluster("c2"), endpoints("c1"), endpoints("c2"), httpListener("l1", "r1"), route("r1", "c2")] }));
    const cds = await c.next();
    await c.expectNone(150); // held: c2's endpoints are awaited
    c.nack(cds, "c2 rejected");
    const rds = await c.next();
    assert.equal(rds.typeUrl, TypeUrl.Route);
  });

  test("per-type Delta services fill in their type and refuse others", async () => {
    await cache.setSnapshot("pt", fullSnapshot(["c1"]));
    const cds = connect({ nodeId: "pt", path: "/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters" });
    cds.send({});
    assert.deepEqual(deltaNames(await cds.next()), ["c1"]);
    const wrong = connect({ nodeId: "pt", path: "/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters" });
    wrong.send({ typeUrl: TypeUrl.Listener });
    assert.equal((await wrong.ended).code, 3);
    const noType = connect({ nodeId: "pt" });
    noType.send({});
    assert.match((await noType.ended).details, /type_url/);
  });

  test("a request waits while the node has nothing, without claiming removals", async () => {
    const c = connect({ nodeId: "late" });
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c1"] });
    await c.expectNone(200);
    await cache.setSnapshot("late", fullSnapshot(["c1"]));
    const r = await c.next();
    assert.deepEqual(deltaNames(r), ["c1"]);
    assert.deepEqual(r.removedResources, []);
  });

  test("each resource version is wrapped once and shared by every stream; responses report what they carried", async () => {
    await cache.setSnapshot("shared", fullSnapshot(["s1", "s2", "s3"]));
    const before = server.deltaMetrics;
    const a = connect({ nodeId: "shared" });
    const b = connect({ nodeId: "shared" });
    a.send({ typeUrl: TypeUrl.Cluster });
    b.send({ typeUrl: TypeUrl.Cluster });
    assert.deepEqual(deltaNames(await a.next()), deltaNames(await b.next()));
    const m = server.deltaMetrics;
    assert.equal(m.bodiesEncoded - before.bodiesEncoded, 3, "three wrappers for six resources written");
    assert.equal(m.resourcesWritten - before.resourcesWritten, 6);
    const ev = responses.filter((e) => e.nodeId === "shared") as DeltaResponseEvent[];
    assert.deepEqual(ev.map((e) => e.resourceNames), [["s1", "s2", "s3"], ["s1", "s2", "s3"]]);
    assert.deepEqual(ev.map((e) => e.variant), ["delta", "delta"]);
  });

  test("closing a Delta stream releases its watch and its place in status", async () => {
    await cache.setSnapshot("closing", fullSnapshot(["c1"]));
    const c = connect({ nodeId: "closing" });
    c.send({ typeUrl: TypeUrl.Cluster });
    await c.next();
    assert.equal(server.status.node("closing")?.streams, 1);
    c.close();
    for (let i = 0; i < 50 && server.status.node("closing")?.streams !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.status.node("closing")?.streams, 0);
  });
});
