// maxNodeBytes with a real Envoy (docs/xds-protocol.md § Bounded memory): the
// node Envoy sends (metadata, locality, user agent and its whole extensions
// list) fits well under the default limit and is served; a server whose limit
// is below that node refuses the stream and keeps nothing of it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl, type StreamCloseEvent } from "@ts-control-plane/xds";
import { freePort } from "../harness/free-port.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { proxyResources } from "./proxy-resources.ts";

const defaultMaxNodeBytes = 256 * 1024;

test("Envoy's own node fits the default maxNodeBytes; a limit below it refuses Envoy's stream with RESOURCE_EXHAUSTED and keeps nothing", async (t) => {
  const cache = createSnapshotCache();
  let envoyNodeBytes = 0;
  const served = createXdsServer({ cache, hooks: { onStreamOpen: (e) => (envoyNodeBytes = toBinary(NodeSchema, e.node).length) } });
  const servedPort = await served.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => served.close({ graceMs: 500 }));
  const nodeId = "node-size";
  await cache.setSnapshot(nodeId, createSnapshot({ resources: proxyResources({ mode: "ads", listenerPort: await freePort(), endpoints: [await freePort()] }) }));
  await startEnvoy({ name: `${nodeId}-served`, t, bootstrap: xdsBootstrap({ xdsPort: servedPort, mode: "ads", nodeId }) });
  await waitUntil(() => served.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Cluster)?.ackedVersion !== undefined || undefined, {
    timeoutMs: 10_000,
    description: "Envoy ACKs its clusters",
  });
  t.diagnostic(`Envoy's node: ${envoyNodeBytes} bytes encoded`);
  assert.ok(envoyNodeBytes > 1024 && envoyNodeBytes < defaultMaxNodeBytes / 2, `Envoy's node is ${envoyNodeBytes} bytes`);

  // The same Envoy against a server whose limit is below its node: it never gets
  // its first configuration, so it is only waited for up to its admin.
  const closes: StreamCloseEvent[] = [];
  const strict = createXdsServer({ cache, maxNodeBytes: 1024, hooks: { onStreamClose: (e) => closes.push(e) } });
  const strictPort = await strict.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => strict.close({ graceMs: 500 }));
  await startEnvoy({ name: `${nodeId}-refused`, t, readyWhen: "admin", bootstrap: xdsBootstrap({ xdsPort: strictPort, mode: "ads", nodeId }) });
  const refused = await waitUntil(() => closes.find((e) => e.error !== undefined), { timeoutMs: 10_000, description: "the stream is refused" });
  assert.equal(refused.error?.code, 8, "RESOURCE_EXHAUSTED");
  assert.match(refused.error?.details ?? "", new RegExp(`the node in this DiscoveryRequest is ${envoyNodeBytes} bytes encoded, over the server's limit of 1024 \\(maxNodeBytes\\)`));
  assert.deepEqual(strict.status.nodes(), [], "nothing of the node is kept");
});
