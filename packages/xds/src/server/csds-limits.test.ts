// CSDS answers within bounds: too many nodes or too many bytes is refused
// with RESOURCE_EXHAUSTED and how to ask in parts, never cut silently (issue 14).
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientStatusRequestSchema, ClientStatusResponseSchema, type ClientStatusResponse } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { StatusRegistry } from "../cache/node-status.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { buildCsdsResponse, encodeCsdsResponse } from "./csds-response.ts";
import { createXdsServer } from "./xds-server.ts";

const fetchPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus";
const streamPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/StreamClientStatus";
const identity = (b: Buffer): Buffer => b;
const resourceExhausted = 8;
type Request = MessageInitShape<typeof ClientStatusRequestSchema>;
const encode = (init: Request): Buffer => Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, init)));
const prefix = (value: string): Request => ({ nodeMatchers: [{ nodeId: { matchPattern: { case: "prefix", value } } }] });

/** Five nodes in status (a-0, a-1, a-2, b-0, b-1) subscribed to one cluster of the cache. */
async function fleet() {
  const cache = createSnapshotCache();
  const status = new StatusRegistry();
  for (const id of ["a-0", "a-1", "a-2", "b-0", "b-1"]) {
    await cache.setSnapshot(id, createSnapshot({ version: "v1", resources: [edsCluster("c1"), endpoints("c1")] }));
    status.streamOpened({ id, cluster: "fleet" }, id);
    status.subscribed(id, "type.googleapis.com/envoy.config.cluster.v3.Cluster", ["*"]);
    status.sent(id, "type.googleapis.com/envoy.config.cluster.v3.Cluster", "v1", "1");
  }
  return { cache, status };
}

test("encodeCsdsResponse encodes exactly what buildCsdsResponse builds, within the limits", async () => {
  const sources = await fleet();
  const request = create(ClientStatusRequestSchema, {});
  const answer = encodeCsdsResponse(request, sources);
  assert.ok("bytes" in answer);
  assert.deepEqual(Buffer.from(answer.bytes), Buffer.from(toBinary(ClientStatusResponseSchema, buildCsdsResponse(request, sources))));
  assert.equal(fromBinary(ClientStatusResponseSchema, answer.bytes).config.length, 5);
});

test("over maxNodes or maxResponseBytes, gRPC CSDS answers RESOURCE_EXHAUSTED saying how to ask in parts; per-prefix requests get the rest", async (t) => {
  const sources = await fleet();
  const xds = createXdsServer({ cache: sources.cache, status: sources.status, csds: { maxNodes: 3, maxResponseBytes: 400 } });
  const port = await xds.listen({ port: 0 });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(async () => {
    client.close();
    await xds.close({ graceMs: 100 });
  });
  const fetch = (init: Request) =>
    new Promise<{ response?: ClientStatusResponse; error?: grpc.ServiceError }>((resolve) =>
      client.makeUnaryRequest(fetchPath, identity, identity, encode(init), (error, value) =>
        resolve(error || !value ? (error ? { error } : {}) : { response: fromBinary(ClientStatusResponseSchema, value) }),
      ),
    );

  const all = await fetch({ excludeResourceContents: true });
  assert.equal(all.error?.code, resourceExhausted);
  assert.match(all.error?.details ?? "", /^5 nodes match this ClientStatusRequest, over the limit of 3 per response \(maxNodes\): ask in parts with node_matchers on node_id/);

  // Paging by node id prefix: every node, none twice.
  const a = await fetch({ ...prefix("a-"), excludeResourceContents: true });
  const b = await fetch({ ...prefix("b-"), excludeResourceContents: true });
  assert.deepEqual([...(a.response?.config ?? []), ...(b.response?.config ?? [])].map((c) => c.node?.id), ["a-0", "a-1", "a-2", "b-0", "b-1"]);

  // With contents, three nodes pass 400 bytes (about 170 each): refused, naming the node and the ways out.
  const big = await fetch(prefix("a-"));
  assert.equal(big.error?.code, resourceExhausted);
  assert.match(big.error?.details ?? "", /passes the limit of 400 bytes \(maxResponseBytes\) at node 3 of 3 \("a-2"\): set exclude_resource_contents, or ask in parts/);
  const one = await fetch({ nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: "a-1" } } }] });
  assert.deepEqual(one.response?.config.map((c) => c.node?.id), ["a-1"]);
  assert.ok((one.response?.config[0]?.genericXdsConfigs[0]?.xdsConfig?.value.length ?? 0) > 0, "one node, contents included");

  // StreamClientStatus refuses the same way, and ends the stream.
  const stream = client.makeBidiStreamRequest(streamPath, identity, identity);
  const ended = new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
  stream.on("error", () => {});
  stream.write(encode({}));
  assert.equal((await ended).code, resourceExhausted);
});

test("CSDS limits must be integers >= 1", async () => {
  const { cache } = await fleet();
  assert.throws(() => createXdsServer({ cache, csds: { maxNodes: 0 } }), (e) => e instanceof XdsError && /CSDS maxNodes must be an integer >= 1, not 0/.test(e.message));
});
