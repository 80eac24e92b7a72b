// An ACK repeating the encoded names of the request that built the stream's
// subscription is handled without decoding its names; anything else (a
// change of names, a NACK, the node) takes the full decode. The rules hold
// either way.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { DiscoveryRequestSchema, type DiscoveryResponse } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { readRawSotwRequest } from "../protocol/sotw-repeat-request.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import type { NackEvent, RequestEvent } from "./xds-hooks.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const names = (r: DiscoveryResponse): string[] => r.resources.map((a) => fromBinary(ClusterLoadAssignmentSchema, a.value).clusterName);

function eds(port: number, clusters: readonly string[] = ["a", "b", "c"]): Snapshot {
  return createSnapshot({ resources: [...clusters.map((c) => edsCluster(c)), ...clusters.map((c) => endpoints(c, [port]))] });
}

test("the raw reader keeps names as bytes, skips the node, and gives up on anything but version, names, type and nonce", () => {
  const bytes = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { versionInfo: "v1", resourceNames: ["a", "bé"], typeUrl: "t", responseNonce: "n1" }));
  const raw = readRawSotwRequest(bytes);
  assert.deepEqual(raw && { ...raw, names: [...raw.names] }, { versionInfo: "v1", typeUrl: "t", responseNonce: "n1", names: [0x1a, 1, 0x61, 0x1a, 3, 0x62, 0xc3, 0xa9] });
  assert.equal(readRawSotwRequest(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: "t", node: { id: "n" } })))?.typeUrl, "t", "a repeated node is skipped");
  assert.equal(readRawSotwRequest(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: "t", errorDetail: { code: 3, message: "x" } }))), undefined);
  assert.deepEqual(readRawSotwRequest(new Uint8Array())?.names.length, 0);
  assert.equal(readRawSotwRequest(Uint8Array.of(0x0a, 5, 0x61)), undefined, "truncated");
  assert.equal(readRawSotwRequest(Uint8Array.of(0x2a, 1, 0xff)), undefined, "not UTF-8");
});

describe("repeated SotW ACKs", () => {
  let cache: SnapshotCache;
  let server: XdsServer;
  let port: number;
  const requests: RequestEvent[] = [];
  const nacks: NackEvent[] = [];
  const clients: RawXdsClient[] = [];
  const connect = (nodeId: string): RawXdsClient => {
    const c = new RawXdsClient({ port, nodeId });
    clients.push(c);
    return c;
  };

  before(async () => {
    cache = createSnapshotCache();
    server = createXdsServer({ cache, hooks: { onRequest: (e) => requests.push(e), onNack: (e) => nacks.push(e) } });
    port = await server.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });

  test("streams repeating the same names share them without decoding, and every change still goes out", async () => {
    await cache.setSnapshot("rep", eds(1));
    const [a, b] = [connect("rep"), connect("rep")];
    for (const c of [a, b]) c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a", "b"] });
    for (const c of [a, b]) c.ack(await c.next(), ["a", "b"]);
    await a.expectNone(50);
    for (let port = 2; port <= 3; port++) {
      await cache.setSnapshot("rep", eds(port));
      for (const c of [a, b]) {
        const r = await c.next();
        assert.deepEqual(names(r), ["a", "b"]);
        c.ack(r, ["a", "b"]);
      }
      await a.expectNone(50);
    }
    const acks = requests.filter((e) => e.nodeId === "rep" && e.responseNonce !== "");
    assert.equal(acks.length, 6);
    const last = acks.slice(-4);
    assert.ok(last.every((e) => e.resourceNames === last[0]?.resourceNames), "one shared names list: nothing decoded");
    assert.ok(last.every((e) => !e.stale));
  });

  test("names of the same encoded length but other content change the subscription", async () => {
    await cache.setSnapshot("len", eds(1));
    const c = connect("len");
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a", "b"] });
    let r = await c.next();
    c.ack(r, ["a", "b"]);
    await c.expectNone(50);
    c.ack(r, ["a", "b"]); // the same ACK again: still the latest nonce, nothing to send
    await c.expectNone(50);
    c.ack(r, ["a", "c"]);
    r = await c.next();
    assert.deepEqual(names(r), ["a", "c"]);
  });

  test("a NACK repeating the names is a NACK; a stale repeat triggers nothing", async () => {
    await cache.setSnapshot("nk", eds(1));
    const c = connect("nk");
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a"] });
    const r1 = await c.next();
    c.ack(r1, ["a"]);
    await c.expectNone(50);
    await cache.setSnapshot("nk", eds(2));
    const r2 = await c.next();
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a"], versionInfo: r1.versionInfo, responseNonce: r2.nonce, errorMessage: "bad" });
    await c.expectNone(100);
    assert.equal(nacks.filter((e) => e.nodeId === "nk").length, 1);
    c.ack(r1, ["a"]);
    await c.expectNone(100);
    assert.equal(requests.filter((e) => e.nodeId === "nk").at(-1)?.stale, true);
  });
});
