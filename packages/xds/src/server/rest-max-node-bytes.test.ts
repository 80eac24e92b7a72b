// maxNodeBytes over REST fetch (issue 14): the gRPC streams' rule, one place
// (node-size-limit.ts), for JSON and binary requests; status never sees the node.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { StatusRegistry } from "../cache/node-status.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { createRestGateway, type RestGatewayOptions } from "./rest-gateway.ts";

const request = (id: string, metadataBytes: number) =>
  create(DiscoveryRequestSchema, { node: create(NodeSchema, { id, cluster: "rest", metadata: { blob: "x".repeat(metadataBytes) } }) });

async function gateway(t: TestContext, options: Omit<RestGatewayOptions, "cache" | "status"> = {}) {
  const cache = createSnapshotCache({ nodeKey: () => "all" });
  await cache.setSnapshot("all", createSnapshot({ resources: [edsCluster("c1"), endpoints("c1")] }));
  const status = new StatusRegistry();
  const g = createRestGateway({ cache, status, ...options });
  const base = `http://127.0.0.1:${await g.listen({ port: 0 })}/v3/discovery:clusters`;
  t.after(() => g.close());
  const json = (r: ReturnType<typeof request>) => fetch(base, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(toJson(DiscoveryRequestSchema, r)) });
  const binary = (r: ReturnType<typeof request>) =>
    fetch(base, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: toBinary(DiscoveryRequestSchema, r) });
  return { status, json, binary };
}

test("REST: a node over the default 256 KiB is answered 413 node_too_large naming both sizes, JSON or binary; status never sees it", async (t) => {
  const g = await gateway(t);
  for (const send of [g.json, g.binary]) {
    const res = await send(request("big", 300_000));
    assert.equal(res.status, 413);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "node_too_large");
    assert.match(body.message, /^the node in this DiscoveryRequest is 3000\d\d bytes encoded, over the server's limit of 262144 \(maxNodeBytes\): send less node metadata, or raise the limit$/);
  }
  assert.equal(g.status.node("big"), undefined);
  // A node within the limit is served as before.
  const ok = await g.json(request("small", 1000));
  assert.equal(ok.status, 200);
  assert.ok(g.status.node("small"));
});

test("REST: maxNodeBytes is the gateway's option, checked like the xDS server's", async (t) => {
  const g = await gateway(t, { maxNodeBytes: 4096 });
  const res = await g.binary(request("mid", 5000));
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { message: string }).message, /over the server's limit of 4096 \(maxNodeBytes\)/);
  assert.equal((await g.json(request("tiny", 100))).status, 200);
  assert.throws(() => createRestGateway({ cache: createSnapshotCache(), maxNodeBytes: 10 }), (e: unknown) => e instanceof XdsError && /maxNodeBytes must be an integer >= 1024, not 10/.test(e.message));
});
