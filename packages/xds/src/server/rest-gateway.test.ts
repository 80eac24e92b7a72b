// REST fetch through a raw HTTP client (node's fetch) against the real gateway.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, fromJson, toBinary, toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import {
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { StatusRegistry } from "../cache/node-status.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import { createRestGateway, type RestGateway } from "./rest-gateway.ts";
import { restDiscoveryPaths } from "./rest-paths.ts";

type RequestInit = MessageInitShape<typeof DiscoveryRequestSchema>;
const registry = envoyRegistry();
const node = (id: string) => ({ id, cluster: "rest-test" });

describe("REST gateway", () => {
  let cache: SnapshotCache;
  let status: StatusRegistry;
  let gateway: RestGateway;
  let base: string;

  const post = (path: string, body: string | Uint8Array, contentType = "application/json", method = "POST") =>
    fetch(base + path, { method, headers: { "content-type": contentType }, ...(method === "GET" ? {} : { body }) });
  /** A JSON DiscoveryRequest (proto3 JSON, as Envoy sends it); returns status and the decoded response. */
  const ask = async (path: string, init: RequestInit): Promise<{ status: number; response?: DiscoveryResponse; text: string }> => {
    const json = toJson(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init), { registry });
    const res = await post(path, JSON.stringify(json));
    const text = await res.text();
    if (res.status !== 200) return { status: res.status, text };
    assert.equal(res.headers.get("content-type"), "application/json");
    return { status: res.status, text, response: fromJson(DiscoveryResponseSchema, JSON.parse(text), { registry }) };
  };
  const clusterNames = (r: DiscoveryResponse | undefined) => (r?.resources ?? []).map((a) => fromBinary(ClusterSchema, a.value).name);

  before(async () => {
    cache = createSnapshotCache();
    status = new StatusRegistry();
    gateway = createRestGateway({ cache, status, controlPlaneId: "rest-replica", maxRequestBytes: 16 * 1024 });
    base = `http://127.0.0.1:${await gateway.listen({ port: 0 })}`;
    const one = createSnapshot({ resources: [edsCluster("c1"), endpoints("c1"), httpListener("l1", "r1"), route("r1", "c1")] });
    await cache.setSnapshot("n1", one);
  });
  after(() => gateway.close());

  test("clusters in proto3 JSON, selected like SotW (wildcard), with version, nonce and control plane", async () => {
    const r = await ask("/v3/discovery:clusters", { node: node("n1") });
    assert.equal(r.status, 200);
    assert.equal(r.response?.typeUrl, TypeUrl.Cluster);
    assert.deepEqual(clusterNames(r.response), ["c1"]);
    assert.equal(r.response?.versionInfo, cache.getSnapshot("n1")?.typeVersion(TypeUrl.Cluster));
    assert.notEqual(r.response?.nonce, "");
    assert.equal(r.response?.controlPlane?.identifier, "rest-replica");
    // Resources are Anys in JSON form, with "@type" (what Envoy's JSON parser needs).
    assert.equal((JSON.parse(r.text) as { resources: Record<string, unknown>[] }).resources[0]?.["@type"], TypeUrl.Cluster);
    const t = status.node("n1")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
    assert.equal(t?.sentVersion, r.response?.versionInfo);
    assert.equal(t?.sentNonce, r.response?.nonce);
    assert.deepEqual(t?.subscribed, ["*"]);
    assert.equal(status.node("n1")?.nodeCluster, "rest-test");
    assert.equal(status.node("n1")?.streams, 0, "REST holds no stream open");
  });

  test("an ACK is recorded and answered 304 until the type changes, then the new set comes", async () => {
    const first = await ask("/v3/discovery:clusters", { node: node("n1") });
    const ack = await ask("/v3/discovery:clusters", { node: node("n1"), versionInfo: first.response?.versionInfo ?? "", responseNonce: first.response?.nonce ?? "" });
    assert.equal(ack.status, 304);
    assert.equal(ack.text, "");
    assert.equal(status.node("n1")?.types.find((x) => x.typeUrl === TypeUrl.Cluster)?.ackedVersion, first.response?.versionInfo);
    // Polling again with the same answer stays 304.
    assert.equal((await ask("/v3/discovery:clusters", { node: node("n1"), versionInfo: first.response?.versionInfo ?? "", responseNonce: first.response?.nonce ?? "" })).status, 304);

    await cache.setSnapshot("n1", createSnapshot({ resources: [edsCluster("c1"), endpoints("c1"), edsCluster("c2"), endpoints("c2"), httpListener("l1", "r1"), route("r1", "c1")] }));
    const next = await ask("/v3/discovery:clusters", { node: node("n1"), versionInfo: first.response?.versionInfo ?? "", responseNonce: first.response?.nonce ?? "" });
    assert.equal(next.status, 200);
    assert.deepEqual(clusterNames(next.response), ["c1", "c2"]);
    assert.notEqual(next.response?.versionInfo, first.response?.versionInfo);
  });

  test("a client with the current version is answered 304 even without a nonce (e.g. after a gateway restart)", async () => {
    const current = cache.getSnapshot("n1")?.typeVersion(TypeUrl.Cluster) ?? "";
    assert.equal((await ask("/v3/discovery:clusters", { node: node("someone-else-of-n1"), versionInfo: current })).status, 304, "no snapshot for this node: nothing to say");
    const fresh = createRestGateway({ cache });
    const port = await fresh.listen({ port: 0 });
    try {
      const json = toJson(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: node("n1"), versionInfo: current }), { registry });
      const res = await fetch(`http://127.0.0.1:${port}/v3/discovery:clusters`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(json) });
      assert.equal(res.status, 304);
    } finally {
      await fresh.close();
    }
  });

  test("endpoints by name: missing names wait (304), a newly asked name is sent even at the same version", async () => {
    assert.equal((await ask("/v3/discovery:endpoints", { node: node("n1"), resourceNames: ["nope"] })).status, 304);
    const a = await ask("/v3/discovery:endpoints", { node: node("n1"), resourceNames: ["c1"] });
    assert.equal(a.status, 200);
    assert.deepEqual(a.response?.resources.map((x) => fromBinary(ClusterLoadAssignmentSchema, x.value).clusterName), ["c1"]);
    const acked = { versionInfo: a.response?.versionInfo ?? "", responseNonce: a.response?.nonce ?? "" };
    assert.equal((await ask("/v3/discovery:endpoints", { node: node("n1"), resourceNames: ["c1"], ...acked })).status, 304);
    // Same type version, one more name: the client does not have c2 yet (go-control-plane #431).
    const b = await ask("/v3/discovery:endpoints", { node: node("n1"), resourceNames: ["c1", "c2"], ...acked });
    assert.equal(b.status, 200);
    assert.equal(b.response?.versionInfo, a.response?.versionInfo);
    assert.deepEqual(b.response?.resources.map((x) => fromBinary(ClusterLoadAssignmentSchema, x.value).clusterName), ["c1", "c2"]);
  });

  test("a NACK is recorded once, with Envoy's message, and the rejected set is not resent on every poll", async () => {
    await cache.setSnapshot("nacker", createSnapshot({ resources: [edsCluster("bad"), endpoints("bad")] }));
    const r = await ask("/v3/discovery:clusters", { node: node("nacker") });
    const nack = { node: node("nacker"), responseNonce: r.response?.nonce ?? "", errorDetail: { code: 13, message: "cluster bad: boom" } };
    assert.equal((await ask("/v3/discovery:clusters", nack)).status, 304);
    assert.equal((await ask("/v3/discovery:clusters", nack)).status, 304);
    const t = status.node("nacker")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
    assert.equal(t?.nacked, true);
    assert.equal(t?.nacks, 1);
    assert.equal(t?.lastNack?.message, "cluster bad: boom");
    assert.equal(t?.lastNack?.version, r.response?.versionInfo);
    assert.equal(t?.ackedVersion, undefined);
    // A fix is sent at once.
    await cache.setSnapshot("nacker", createSnapshot({ resources: [edsCluster("good"), endpoints("good")] }));
    assert.deepEqual(clusterNames((await ask("/v3/discovery:clusters", nack)).response), ["good"]);
  });

  test("Envoy's way, without nonces: echoing the version ACKs, error_detail with the old version NACKs", async () => {
    // Envoy's REST client sends version_info and error_detail but never response_nonce.
    await cache.setSnapshot("envoy-like", createSnapshot({ resources: [edsCluster("a"), endpoints("a")] }));
    const first = await ask("/v3/discovery:clusters", { node: node("envoy-like") });
    const v1 = first.response?.versionInfo ?? "";
    assert.equal((await ask("/v3/discovery:clusters", { node: node("envoy-like"), versionInfo: v1 })).status, 304);
    const type = () => status.node("envoy-like")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
    assert.equal(type()?.ackedVersion, v1);

    await cache.setSnapshot("envoy-like", createSnapshot({ resources: [edsCluster("a"), endpoints("a"), edsCluster("b"), endpoints("b")] }));
    const second = await ask("/v3/discovery:clusters", { node: node("envoy-like"), versionInfo: v1 });
    const v2 = second.response?.versionInfo ?? "";
    assert.deepEqual(clusterNames(second.response), ["a", "b"]);
    const nack = { node: node("envoy-like"), versionInfo: v1, errorDetail: { code: 13, message: "b: rejected" } };
    assert.equal((await ask("/v3/discovery:clusters", nack)).status, 304, "the NACKed set is not sent again");
    assert.equal((await ask("/v3/discovery:clusters", nack)).status, 304);
    assert.equal(type()?.nacked, true);
    assert.equal(type()?.nacks, 1);
    assert.equal(type()?.lastNack?.version, v2);
    assert.equal(type()?.ackedVersion, v1);

    await cache.setSnapshot("envoy-like", createSnapshot({ resources: [edsCluster("a"), endpoints("a"), edsCluster("c"), endpoints("c")] }));
    const third = await ask("/v3/discovery:clusters", nack);
    assert.deepEqual(clusterNames(third.response), ["a", "c"]);
    // Accepted; even if a client kept the old error_detail, echoing the version sent is an ACK.
    assert.equal((await ask("/v3/discovery:clusters", { ...nack, versionInfo: third.response?.versionInfo ?? "" })).status, 304);
    assert.equal(type()?.nacked, false);
    assert.equal(type()?.ackedVersion, third.response?.versionInfo);
  });

  test("Envoy's REST NACK has no error_detail: asking again with the old version is one, and the set is retried after a backoff", async () => {
    let clock = 1_000;
    const g = createRestGateway({ cache, status, nackRetryMs: 10_000, now: () => clock });
    const url = `http://127.0.0.1:${await g.listen({ port: 0 })}/v3/discovery:clusters`;
    const poll = async (versionInfo: string): Promise<{ status: number; response?: DiscoveryResponse }> => {
      const json = toJson(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: node("silent"), versionInfo }), { registry });
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(json) });
      const text = await res.text();
      return res.status === 200 ? { status: 200, response: fromJson(DiscoveryResponseSchema, JSON.parse(text), { registry }) } : { status: res.status };
    };
    const type = () => status.node("silent")?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
    try {
      await cache.setSnapshot("silent", createSnapshot({ resources: [edsCluster("a"), endpoints("a")] }));
      const v1 = (await poll("")).response?.versionInfo ?? "";
      // An empty version is how a (re)started Envoy asks: always answered, never a NACK.
      assert.equal((await poll("")).status, 200);
      assert.equal((await poll(v1)).status, 304);
      await cache.setSnapshot("silent", createSnapshot({ resources: [edsCluster("a"), endpoints("a"), edsCluster("b"), endpoints("b")] }));
      const v2 = (await poll(v1)).response?.versionInfo ?? "";
      assert.notEqual(v2, v1);
      // Rejected: Envoy asks again with v1, nothing else.
      assert.equal((await poll(v1)).status, 304);
      assert.equal((await poll(v1)).status, 304);
      assert.equal(type()?.nacked, true);
      assert.equal(type()?.nacks, 1);
      assert.equal(type()?.lastNack?.version, v2);
      assert.match(type()?.lastNack?.message ?? "", /asked again with version '.+' instead of '.+': it did not apply/);
      assert.equal(type()?.ackedVersion, v1);
      // After the backoff the set is offered once more (it may have been a lost answer).
      clock += 10_000;
      const retry = await poll(v1);
      assert.equal(retry.status, 200);
      assert.equal(retry.response?.versionInfo, v2);
      assert.equal((await poll(v2)).status, 304);
      assert.equal(type()?.nacked, false);
      assert.equal(type()?.ackedVersion, v2);
    } finally {
      await g.close();
    }
  });

  test("binary protobuf in, binary protobuf out, when the Content-Type says so", async () => {
    const body = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: node("n1"), typeUrl: TypeUrl.Listener }));
    const res = await post("/v3/discovery:listeners", body, "application/x-protobuf");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-protobuf");
    const r = fromBinary(DiscoveryResponseSchema, new Uint8Array(await res.arrayBuffer()));
    assert.equal(r.typeUrl, TypeUrl.Listener);
    assert.equal(r.resources.length, 1);
    assert.equal(r.controlPlane?.identifier, "rest-replica");
  });

  test("every v3 REST path serves its type; full-state types answer an empty set, others wait", async () => {
    await cache.setSnapshot("empty", createSnapshot({ resources: [] }));
    const seen: Record<string, number> = {};
    for (const [path, typeUrl] of restDiscoveryPaths) {
      const r = await ask(path, { node: node("empty"), typeUrl });
      seen[path] = r.status;
      if (r.status === 200) assert.equal(r.response?.typeUrl, typeUrl);
    }
    assert.deepEqual(seen, {
      "/v3/discovery:clusters": 200,
      "/v3/discovery:endpoints": 304,
      "/v3/discovery:listeners": 200,
      "/v3/discovery:routes": 304,
      "/v3/discovery:scoped-routes": 200,
      "/v3/discovery:secrets": 304,
      "/v3/discovery:runtime": 304,
      "/v3/discovery:extension_configs": 304,
    });
  });

  test("clear errors: malformed bodies and wrong types are 400, and HTTP misuse has its own status", async () => {
    const error = async (res: Response, status: number, pattern: RegExp) => {
      assert.equal(res.status, status);
      const body = (await res.json()) as { code: string; message: string };
      assert.match(body.message, pattern);
    };
    await error(await post("/v3/discovery:clusters", "{not json"), 400, /the body is not JSON/);
    await error(await post("/v3/discovery:clusters", JSON.stringify({ node: { id: 7 } })), 400, /malformed DiscoveryRequest \(proto3 JSON\)/);
    await error(await post("/v3/discovery:clusters", new Uint8Array([0xff, 0xff, 0xff]), "application/x-protobuf"), 400, /malformed DiscoveryRequest \(binary/);
    await error(await post("/v3/discovery:clusters", JSON.stringify({ node: { id: "n1" }, typeUrl: TypeUrl.Listener })), 400, /does not match this path/);
    await error(await post("/v3/discovery:clusters", JSON.stringify({ typeUrl: TypeUrl.Cluster })), 400, /must carry node/);
    await error(await post("/v3/discovery:virtualhosts", "{}"), 404, /no REST discovery endpoint.*\/v3\/discovery:clusters/);
    await error(await post("/v3/discovery:clusters", "", "application/json", "GET"), 405, /takes POST/);
    await error(await post("/v3/discovery:clusters", "x", "text/plain"), 415, /neither application\/json nor application\/x-protobuf/);
    await error(await post("/v3/discovery:clusters", JSON.stringify({ node: { id: "n1" }, resourceNames: ["x".repeat(20_000)] })), 413, /larger than 16384 bytes/);
    // Unknown JSON fields are ignored (a newer Envoy may send fields we do not know).
    const res = await post("/v3/discovery:clusters", JSON.stringify({ node: { id: "n1" }, someFutureField: 1 }));
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });
});
