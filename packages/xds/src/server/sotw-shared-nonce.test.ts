// SotW responses built once for every stream, nonce included: streams that
// get the same new body share its nonce and its bytes. The nonce rules still
// hold on each stream, because a stream only takes a shared nonce for a body
// newer than any it took one for before (response-encoder.ts bodyId), so no
// nonce ever repeats on a stream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import type { DiscoveryResponse } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import type { ResponseEvent } from "./xds-hooks.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const names = (r: DiscoveryResponse): string[] => r.resources.map((a) => fromBinary(ClusterLoadAssignmentSchema, a.value).clusterName);

function eds(port: number, clusters: readonly string[] = ["a", "b", "c"]): Snapshot {
  return createSnapshot({ resources: [...clusters.map((c) => edsCluster(c)), ...clusters.map((c) => endpoints(c, [port]))] });
}

describe("SotW shared nonces", () => {
  let cache: SnapshotCache;
  let server: XdsServer;
  let port: number;
  const responses: ResponseEvent[] = [];
  const clients: RawXdsClient[] = [];
  const connect = (nodeId: string): RawXdsClient => {
    const c = new RawXdsClient({ port, nodeId });
    clients.push(c);
    return c;
  };

  before(async () => {
    cache = createSnapshotCache();
    server = createXdsServer({ cache, hooks: { onResponse: (e) => responses.push(e) } });
    port = await server.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });

  test("streams that get the same new body get the same nonce, from one response built once", async () => {
    await cache.setSnapshot("same", eds(1));
    const a = connect("same");
    const b = connect("same");
    for (const c of [a, b]) c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a", "b", "c"] });
    const [ra, rb] = [await a.next(), await b.next()];
    assert.equal(ra.nonce, rb.nonce);
    assert.match(ra.nonce, /^b\d+$/);
    a.ack(ra, ["a", "b", "c"]);
    b.ack(rb, ["a", "b", "c"]);
    await a.expectNone(50);
    const before = server.metrics.bodiesEncoded;
    await cache.setSnapshot("same", eds(2));
    const [ca, cb] = [await a.next(), await b.next()];
    assert.equal(ca.nonce, cb.nonce);
    assert.notEqual(ca.nonce, ra.nonce);
    assert.equal(server.metrics.bodiesEncoded, before + 1, "one body for both streams");
  });

  test("a request answering an older shared nonce is stale: its subscription change triggers nothing", async () => {
    await cache.setSnapshot("stale", eds(1));
    const c = connect("stale");
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a", "b"] });
    const r1 = await c.next();
    await cache.setSnapshot("stale", eds(2));
    const r2 = await c.next();
    assert.notEqual(r1.nonce, r2.nonce);
    c.ack(r1, ["a", "b", "c"]);
    await c.expectNone(150);
    c.ack(r2, ["a", "b", "c"]);
    const r3 = await c.next();
    assert.deepEqual(names(r3), ["a", "b", "c"]);
  });

  test("a NACKed shared response is not resent; the next change is sent", async () => {
    await cache.setSnapshot("nack", eds(1));
    const c = connect("nack");
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a"] });
    const r1 = await c.next();
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a"], responseNonce: r1.nonce, errorMessage: "no thanks" });
    await c.expectNone(150);
    await cache.setSnapshot("nack", eds(3));
    const r2 = await c.next();
    assert.notEqual(r2.nonce, r1.nonce);
    assert.notEqual(r2.versionInfo, r1.versionInfo);
    assert.deepEqual(names(r2), ["a"]);
  });

  test("names dropped and asked again are resent (#431), under a nonce of the stream's own; the old nonce stays stale", async () => {
    await cache.setSnapshot("resend", eds(1));
    const c = connect("resend");
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a", "b"] });
    const r1 = await c.next();
    c.ack(r1, ["a"]);
    await c.expectNone(100);
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a", "b"], versionInfo: r1.versionInfo, responseNonce: r1.nonce });
    const r2 = await c.next();
    assert.deepEqual(names(r2), ["a", "b"]);
    assert.equal(r2.versionInfo, r1.versionInfo, "the same body as before");
    assert.notEqual(r2.nonce, r1.nonce, "a nonce never repeats on a stream");
    assert.match(r2.nonce, /^\d+$/);
    c.ack(r1, ["b"]);
    await c.expectNone(150);
    c.ack(r2, ["a", "b"]);
    await c.expectNone(100);
    await cache.setSnapshot("resend", eds(4));
    const r3 = await c.next();
    assert.match(r3.nonce, /^b\d+$/, "a newer body is shared again");
  });
});
