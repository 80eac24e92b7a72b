// TTL and heartbeats over SotW, on the wire: TTL'd resources go out wrapped in
// envoy.service.discovery.v3.Resource, and heartbeats resend what the client
// holds at its version through the stream's ordered pump.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import {
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  ResourceSchema,
  type DiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { StatusRegistry } from "../cache/node-status.ts";
import { createLinearCache } from "../cache/linear-cache.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { resourceWrapperTypeUrl } from "./sotw-ttl-wrapper.ts";
import { SotwResponseEncoder } from "./response-encoder.ts";
import { SotwStream, type SotwResponseEvent } from "./sotw-stream.ts";
import { StreamReporter } from "./stream-reporter.ts";
import { createXdsServer } from "./xds-server.ts";

/** Each entry of a response: [name, ttl ms or undefined, has a body]. */
function entries(r: DiscoveryResponse): Array<[string, number | undefined, boolean]> {
  return r.resources.map((any) => {
    if (any.typeUrl === resourceWrapperTypeUrl) {
      const w = fromBinary(ResourceSchema, any.value);
      const ttl = w.ttl ? Number(w.ttl.seconds) * 1000 + w.ttl.nanos / 1e6 : undefined;
      return [w.name, ttl, w.resource !== undefined];
    }
    const name = any.typeUrl === TypeUrl.Cluster ? fromBinary(ClusterSchema, any.value).name : fromBinary(ClusterLoadAssignmentSchema, any.value).clusterName;
    return [name, undefined, true];
  });
}

test("CDS: a TTL'd cluster goes out wrapped with its ttl; a heartbeat resends the whole set at the same version, bytes shared", async (t) => {
  const cache = createSnapshotCache();
  const ttl = encodeResource(ClusterSchema, edsCluster("a-ttl"), { ttlMs: 1500 });
  await cache.setSnapshot("n1", createSnapshot({ skipConsistencyCheck: true, resources: [ttl, edsCluster("b-plain")] }));
  await cache.setSnapshot("n2", createSnapshot({ skipConsistencyCheck: true, resources: [ttl, edsCluster("b-plain")] }));
  const events: SotwResponseEvent[] = [];
  const server = createXdsServer({ cache, heartbeatIntervalMs: 100, hooks: { onResponse: (e) => events.push(e as SotwResponseEvent) } });
  const port = await server.listen({ port: 0 });
  const c1 = new RawXdsClient({ port, nodeId: "n1" });
  const c2 = new RawXdsClient({ port, nodeId: "n2" });
  t.after(async () => {
    c1.close();
    c2.close();
    await server.close({ graceMs: 100 });
  });
  c1.send({ typeUrl: TypeUrl.Cluster });
  const first = await c1.next();
  assert.deepEqual(entries(first), [
    ["a-ttl", 1500, true],
    ["b-plain", undefined, true],
  ]);
  const wrapped = fromBinary(ResourceSchema, first.resources[0]?.value ?? new Uint8Array());
  assert.equal(wrapped.resource?.typeUrl, TypeUrl.Cluster, "the wrapper carries the cluster's own Any");
  assert.equal(wrapped.version, "", "SotW wrappers carry no version: Envoy uses version_info");
  c1.ack(first);
  const bodies = server.metrics.bodiesEncoded;
  const beat = await c1.next(1000);
  assert.equal(beat.versionInfo, first.versionInfo, "a heartbeat does not change the version");
  assert.notEqual(beat.nonce, first.nonce);
  assert.deepEqual(entries(beat), entries(first), "LDS/CDS: every resource, or Envoy would delete the missing ones");
  assert.deepEqual(events.at(-1)?.heartbeats, ["a-ttl"]);
  c1.ack(beat);
  await new Promise((r) => setTimeout(r, 50));
  const status = server.status.node("n1")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
  assert.equal(status?.ackedVersion, first.versionInfo, "the heartbeat is ACKed like any response");
  c2.send({ typeUrl: TypeUrl.Cluster });
  c2.ack(await c2.next());
  c2.ack(await c2.next(1000));
  assert.equal(server.metrics.ttlWrappersEncoded, 1, "the wrapper is encoded once for every stream and heartbeat");
  assert.equal(server.metrics.bodiesEncoded, bodies + 1, "heartbeats reuse the body sent; only n2's snapshot needed one of its own");
  assert.ok(server.metrics.heartbeatsWritten >= 2);
});

test("EDS: a heartbeat carries only the TTL'd assignments the client holds; one gone from the cache is no longer refreshed", async (t) => {
  const ttl = encodeResource(ClusterLoadAssignmentSchema, endpoints("a-ttl", [1]), { ttlMs: 1500 });
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [ttl, endpoints("b-plain", [2])] });
  const server = createXdsServer({ cache, heartbeatIntervalMs: 100 });
  const port = await server.listen({ port: 0 });
  const c = new RawXdsClient({ port, path: "/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints" });
  t.after(async () => {
    c.close();
    await server.close({ graceMs: 100 });
  });
  c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a-ttl", "b-plain"] });
  const first = await c.next();
  assert.deepEqual(entries(first), [
    ["a-ttl", 1500, true],
    ["b-plain", undefined, true],
  ]);
  c.ack(first, ["a-ttl", "b-plain"]);
  const beat = await c.next(1000);
  assert.deepEqual(entries(beat), [["a-ttl", 1500, true]], "EDS absence is not deletion: only what needs refreshing");
  assert.equal(beat.versionInfo, first.versionInfo);
  c.ack(beat, ["a-ttl", "b-plain"]);
  // Deleted in the cache: SotW EDS cannot say "removed", so heartbeats stop and Envoy lets it expire.
  cache.deleteResource("a-ttl");
  await new Promise((r) => setTimeout(r, 150));
  const seen = c.responses.length;
  await c.expectNone(300);
  assert.equal(c.responses.length, seen);
});

test("a NACKed response is never resent as a heartbeat; no TTL, no heartbeat", async (t) => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("nacker", createSnapshot({ skipConsistencyCheck: true, resources: [encodeResource(ClusterSchema, edsCluster("a"), { ttlMs: 1000 })] }));
  await cache.setSnapshot("plain", createSnapshot({ skipConsistencyCheck: true, resources: [edsCluster("a")] }));
  const server = createXdsServer({ cache, heartbeatIntervalMs: 50 });
  const port = await server.listen({ port: 0 });
  const n = new RawXdsClient({ port, nodeId: "nacker" });
  const p = new RawXdsClient({ port, nodeId: "plain" });
  t.after(async () => {
    n.close();
    p.close();
    await server.close({ graceMs: 100 });
  });
  n.send({ typeUrl: TypeUrl.Cluster });
  const r = await n.next();
  n.send({ typeUrl: TypeUrl.Cluster, versionInfo: "", responseNonce: r.nonce, errorMessage: "rejected" });
  p.send({ typeUrl: TypeUrl.Cluster });
  p.ack(await p.next());
  await n.expectNone(300);
  await p.expectNone(100);
  assert.equal(server.metrics.heartbeatsWritten, 0);
});

test("ADS: heartbeats of several types go through the ordered pump, in CDS, EDS, LDS, RDS order", async (t) => {
  const cache = createSnapshotCache();
  const ttl = { ttlMs: 5000 };
  await cache.setSnapshot(
    "ads",
    createSnapshot({
      resources: [
        encodeResource(ClusterSchema, edsCluster("c1"), ttl),
        encodeResource(ClusterLoadAssignmentSchema, endpoints("c1"), ttl),
        httpListener("l1", "r1"),
        route("r1", "c1"),
      ],
    }),
  );
  const events: SotwResponseEvent[] = [];
  const server = createXdsServer({ cache, heartbeatIntervalMs: 150, hooks: { onResponse: (e) => events.push(e as SotwResponseEvent) } });
  const port = await server.listen({ port: 0 });
  const c = new RawXdsClient({ port, nodeId: "ads" });
  t.after(async () => {
    c.close();
    await server.close({ graceMs: 100 });
  });
  // Subscribe in reverse push order; every response is ACKed.
  const subs: Array<[string, string[]]> = [
    [TypeUrl.Route, ["r1"]],
    [TypeUrl.Listener, []],
    [TypeUrl.Endpoint, ["c1"]],
    [TypeUrl.Cluster, []],
  ];
  const namesOf = new Map(subs);
  for (const [typeUrl, names] of subs) c.send({ typeUrl, resourceNames: names });
  const deadline = Date.now() + 3000;
  while (events.filter((e) => e.heartbeats.length > 0).length < 4 && Date.now() < deadline) {
    const r = await c.next(1000);
    c.ack(r, namesOf.get(r.typeUrl) ?? []);
  }
  const beats = events.filter((e) => e.heartbeats.length > 0).slice(0, 2);
  assert.deepEqual(
    beats.map((e) => e.typeUrl),
    [TypeUrl.Cluster, TypeUrl.Endpoint],
    "only types with TTL'd resources beat, clusters before their endpoints",
  );
  assert.ok(events.every((e) => e.typeUrl !== TypeUrl.Listener || e.heartbeats.length === 0), "a type without TTLs is never resent");
});

test("a heartbeat waits for the transport to drain like any response, and beats missed meanwhile are one", async (t) => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("bp", createSnapshot({ skipConsistencyCheck: true, resources: [encodeResource(ClusterSchema, edsCluster("a"), { ttlMs: 1000 })] }));
  const writes: DiscoveryResponse[] = [];
  const drains: Array<() => void> = [];
  const stream = new SotwStream({
    id: 1,
    // A transport that is always full: every write asks to wait for a drain.
    transport: { write: (m) => writes.push(fromBinary(DiscoveryResponseSchema, m)) < 0, onceDrained: (cb) => drains.push(cb), end: () => {} },
    watcher: cache,
    reporter: new StreamReporter({ status: new StatusRegistry() }),
    encoder: new SotwResponseEncoder(),
    heartbeatIntervalMs: 20,
  });
  t.after(() => stream.session.close());
  const request = (fields: { versionInfo?: string; responseNonce?: string }) =>
    stream.onRequest(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Cluster, node: create(NodeSchema, { id: "bp" }), ...fields })));
  request({});
  assert.equal(writes.length, 1);
  request({ versionInfo: writes[0]?.versionInfo ?? "", responseNonce: writes[0]?.nonce ?? "" });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(writes.length, 1, "about 7 beats came and went: none was written beside the pump waiting for a drain");
  assert.equal(drains.length, 1);
  drains.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 2, "after the drain, one heartbeat");
  assert.equal(writes[1]?.versionInfo, writes[0]?.versionInfo);
});
