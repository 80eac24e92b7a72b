// maxNodeBytes: a node too big to keep is refused before it is decoded, on
// SotW and Delta, and nothing of it stays in status (issue 14).
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { NodeSchema, type Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { createLinearCache } from "../cache/linear-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { endpoints } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { encodedFieldBytes } from "./encoded-field-bytes.ts";
import { createXdsServer, type XdsServerOptions } from "./xds-server.ts";

const resourceExhausted = 8;
const nodeWith = (id: string, metadataBytes: number): Node =>
  create(NodeSchema, { id, cluster: "hostile", metadata: { blob: "x".repeat(metadataBytes) } });

async function serve(t: { after: (fn: () => Promise<void>) => void }, options: Omit<XdsServerOptions, "cache"> = {}) {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("e1")] });
  let opened = 0;
  const server = createXdsServer({ cache, ...options, hooks: { onStreamOpen: () => opened++ } });
  const port = await server.listen({ port: 0 });
  t.after(() => server.close({ graceMs: 100 }));
  return { server, port, opened: () => opened };
}

test("SotW: a node over the default 256 KiB ends the stream with RESOURCE_EXHAUSTED naming both sizes; status never sees it", async (t) => {
  const { server, port, opened } = await serve(t);
  const c = new RawXdsClient({ port });
  t.after(() => c.close());
  c.write(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, node: nodeWith("big", 300_000) }));
  const status = await c.ended;
  assert.equal(status.code, resourceExhausted);
  assert.match(status.details, /the node in this DiscoveryRequest is 3000\d\d bytes encoded, over the server's limit of 262144 \(maxNodeBytes\)/);
  assert.equal(server.status.node("big"), undefined);
  assert.deepEqual(server.status.nodes(), []);
  assert.equal(opened(), 0, "onStreamOpen never saw the node");
  assert.equal(c.responses.length, 0);
});

test("Delta: a node over maxNodeBytes is refused the same way, one under it is served", async (t) => {
  const { server, port } = await serve(t, { maxNodeBytes: 4096 });
  const big = new RawDeltaClient({ port });
  const small = new RawDeltaClient({ port });
  t.after(() => {
    big.close();
    small.close();
  });
  big.write(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ["e1"], node: nodeWith("big", 5000) }));
  const status = await big.ended;
  assert.equal(status.code, resourceExhausted);
  assert.match(status.details, /the node in this DeltaDiscoveryRequest is 50\d\d bytes encoded, over the server's limit of 4096/);
  small.write(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ["e1"], node: nodeWith("small", 3000) }));
  const response = await small.next();
  assert.deepEqual(response.resources.map((r) => r.name), ["e1"]);
  assert.deepEqual(server.status.nodes().map((n) => n.nodeId), ["small"]);
});

test("SotW: a later request that grows the node past the limit ends the stream too", async (t) => {
  const { server, port } = await serve(t, { maxNodeBytes: 2048 });
  const c = new RawXdsClient({ port, nodeId: "n" });
  t.after(() => c.close());
  c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["e1"] });
  const first = await c.next();
  c.write(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, resourceNames: ["e1"], versionInfo: first.versionInfo, responseNonce: first.nonce, node: nodeWith("n", 3000) }));
  assert.equal((await c.ended).code, resourceExhausted);
  assert.equal(server.status.node("n")?.node?.metadata?.["blob"], undefined, "the big node was not kept");
});

test("maxNodeBytes must be an integer >= 1024", () => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint });
  assert.throws(() => createXdsServer({ cache, maxNodeBytes: 100 }), (e) => e instanceof XdsError && /maxNodeBytes must be an integer >= 1024, not 100/.test(e.message));
});

test("encodedFieldBytes counts a field's value bytes on the wire, every occurrence, and gives up on malformed bytes", () => {
  const node = nodeWith("n", 1000);
  const request = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, node }));
  assert.equal(encodedFieldBytes(request, 2), toBinary(NodeSchema, node).length, "what the error message reports is the node's own encoded size");
  const one = new Uint8Array([0x0a, 0x02, 0x61, 0x62, 0x12, 0x01, 0x63, 0x08, 0x96, 0x01, 0x12, 0x00]);
  assert.equal(encodedFieldBytes(one, 2), 1, "two occurrences, values of 1 and 0 bytes");
  assert.equal(encodedFieldBytes(one, 1), 4, "a 2-byte string and a 2-byte varint");
  assert.equal(encodedFieldBytes(one, 7), 0);
  assert.equal(encodedFieldBytes(new Uint8Array([0x0a, 0x05, 0x61]), 1), undefined);
});
