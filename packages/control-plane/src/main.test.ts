import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { defaultExamplePath, serve } from "./main.ts";
import type { StatusReport } from "./status/status-report.ts";

test("the admin API's status is the xDS server's own per-node record: a NACK the library recorded shows there", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-"));
  const lines: string[] = [];
  const cp = await serve({
    xdsHost: "127.0.0.1",
    xdsPort: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    dataDir: dir,
    configPaths: [],
    examplePath: defaultExamplePath,
    debounceMs: 5,
    log: (l) => lines.push(l),
  });
  const client = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1" });
  t.after(async () => {
    client.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const status = async () => (await (await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/status`)).json()) as StatusReport;

  client.send({ typeUrl: TypeUrl.Cluster });
  const response = await client.next();
  client.send({ typeUrl: TypeUrl.Cluster, responseNonce: response.nonce, errorMessage: "cluster example_proxy_cluster: bad" });
  let node: StatusReport["nodes"][number] | undefined;
  for (let i = 0; i < 100 && node?.state !== "NACKED"; i++) {
    await new Promise((r) => setTimeout(r, 20));
    node = (await status()).nodes.find((n) => n.nodeId === "edge-1");
  }
  assert.equal(node?.state, "NACKED");
  assert.equal(node?.connected, true);
  assert.equal(node?.streams, 1);
  const cds = node?.types.find((x) => x.type === "CDS");
  assert.deepEqual(
    [cds?.sentVersion, cds?.nack?.version, cds?.nack?.nonce, cds?.nack?.message, cds?.responses, cds?.nacks],
    [response.versionInfo, response.versionInfo, response.nonce, "cluster example_proxy_cluster: bad", 1, 1],
  );
  // The one hook the control plane keeps is its log line, naming the version Envoy rejected.
  assert.ok(
    lines.some((l) => l === `NACK from edge-1 for Cluster (rejected version "${response.versionInfo}", nonce ${response.nonce}): cluster example_proxy_cluster: bad`),
    lines.join("\n"),
  );

  client.close();
  for (let i = 0; i < 100 && node?.connected !== false; i++) {
    await new Promise((r) => setTimeout(r, 20));
    node = (await status()).nodes.find((n) => n.nodeId === "edge-1");
  }
  assert.equal(node?.connected, false, "a disconnected proxy keeps its last status");
  // Disconnected is STALE (docs/admin-api.md); what it last rejected stays on record.
  assert.equal(node?.state, "STALE");
  assert.equal(node?.types.find((x) => x.type === "CDS")?.nack?.message, "cluster example_proxy_cluster: bad");
});

test("xdsLimits reach the xDS server: a node over maxNodeBytes is refused, and a disconnected proxy stays in its last group", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-"));
  const cp = await serve({
    xdsHost: "127.0.0.1",
    xdsPort: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    dataDir: dir,
    configPaths: [],
    examplePath: defaultExamplePath,
    debounceMs: 5,
    log: () => {},
    xdsLimits: { maxNodeBytes: 2048, maxDisconnected: 5 },
  });
  const big = new RawXdsClient({ port: cp.xdsPort });
  const small = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1" });
  t.after(async () => {
    big.close();
    small.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  big.write(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Cluster, node: { id: "big", metadata: { blob: "x".repeat(3000) } } }));
  const ended = await big.ended;
  assert.equal(ended.code, 8);
  assert.match(ended.details, /over the server's limit of 2048 \(maxNodeBytes\)/);

  small.send({ typeUrl: TypeUrl.Cluster });
  small.ack(await small.next());
  small.close();
  const status = async () => (await (await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/status`)).json()) as StatusReport;
  let node: StatusReport["nodes"][number] | undefined;
  for (let i = 0; i < 100 && node?.connected !== false; i++) {
    await new Promise((r) => setTimeout(r, 20));
    node = (await status()).nodes.find((n) => n.nodeId === "edge-1");
  }
  assert.equal(node?.connected, false);
  assert.equal(node?.matchesGroup, undefined, "without its metadata (slim record) it is not judged against the selectors again");
  assert.deepEqual((await status()).nodes.map((n) => n.nodeId), ["edge-1"], "the refused node is nowhere");
});
