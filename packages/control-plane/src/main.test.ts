import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { TypeUrl } from "@ts-control-plane/xds";
import * as grpc from "@grpc/grpc-js";
import { readFile } from "node:fs/promises";
import { RawXdsClient, TestPki } from "@ts-control-plane/xds/testing";
import { createOpenApiRecorder } from "./admin/openapi-check.ts";
import { defaultExamplePath, serve } from "./main.ts";
import type { StatusReport } from "./status/status-report.ts";

/** Every admin answer of this file is checked against the OpenAPI document (issue 9), once all tests ran. */
const openApi = createOpenApiRecorder();
after(() => openApi.assertClean());

/** Both servers on loopback, on free ports, no watched files, a short debounce, admin answers checked: what every test here starts from. */
const onLoopback = { xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, configPaths: [], debounceMs: 5, onAdminReply: openApi.onReply } as const;

test("the admin API's status is the xDS server's own per-node record: a NACK the library recorded shows there", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-"));
  const lines: string[] = [];
  const cp = await serve({
    ...onLoopback,
    dataDir: dir,
    examplePath: defaultExamplePath,
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

// Issue 14: a NACK message is the xDS client's text; a newline in it must not forge a log line.
test("a NACK message holding a newline is logged as exactly one line", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-"));
  const written: string[] = [];
  const cp = await serve({
    ...onLoopback,
    dataDir: dir,
    examplePath: defaultExamplePath,
    // What a log sink sees, joined as a file would be: every call is one line.
    log: (l) => written.push(`${l}\n`),
  });
  const client = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1\r\nx" });
  t.after(async () => {
    client.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  client.send({ typeUrl: TypeUrl.Cluster });
  const response = await client.next();
  client.send({ typeUrl: TypeUrl.Cluster, responseNonce: response.nonce, errorMessage: "bad\n2026-01-01 forged line" });
  const nackLines = () => written.join("").split("\n").filter((l) => l.includes("NACK from"));
  for (let i = 0; i < 100 && nackLines().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const lines = written.join("").split("\n");
  assert.deepEqual(nackLines(), [`NACK from edge-1\\r\\nx for Cluster (rejected version "${response.versionInfo}", nonce ${response.nonce}): bad\\n2026-01-01 forged line`]);
  assert.ok(!lines.some((l) => l.startsWith("2026-01-01 forged line")), lines.join("\n"));
});

test("serve: bad xDS TLS files are refused at start naming the file; plaintext on a non-loopback host warns loudly", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, "missing.pem");
  await assert.rejects(
    serve({ ...onLoopback, dataDir: join(dir, "a"), xdsTls: { certFile: missing, keyFile: missing }, log: () => {} }),
    (e: unknown) => e instanceof Error && e.message.startsWith(`${missing}: cannot read the server certificate (ENOENT)`),
  );
  const lines: string[] = [];
  const cp = await serve({ ...onLoopback, xdsHost: "0.0.0.0", dataDir: join(dir, "b"), log: (l) => lines.push(l) });
  await cp.close();
  assert.ok(lines.some((l) => /^WARNING: xDS is served WITHOUT TLS on 0\.0\.0\.0/.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => l.includes("xDS TLS:")));
});

test("serve over mTLS: changing a NodeGroup's identities ends an open stream that is no longer allowed, and status shows the refusal", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-mtls-"));
  const pki = await TestPki.create();
  t.after(async () => {
    await pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const server = await pki.issue({ name: "server", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
  const cert = await pki.issue({ name: "edge", commonName: "edge", sans: ["URI:spiffe://example.org/ns/edge/sa/envoy"] });
  const lines: string[] = [];
  const cp = await serve({
    ...onLoopback,
    dataDir: join(dir, "data"),
    xdsTls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: pki.caFile },
    log: (l) => lines.push(l),
  });
  const group = (identity: string) =>
    `apiVersion: tcp.dev/v1alpha1\nkind: NodeGroup\nmetadata:\n  name: edge\nspec:\n  selector: {}\n  identities: ["${identity}"]\n---\napiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: web\nspec:\n  endpoints:\n    - address: 127.0.0.1\n      port: 8080\n`;
  const apply = async (body: string) => assert.equal((await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body })).status, 200);
  await apply(group("spiffe://example.org/ns/edge/sa/envoy"));
  const client = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1", credentials: grpc.credentials.createSsl(await readFile(pki.caFile), await readFile(cert.keyFile), await readFile(cert.certFile)) });
  t.after(async () => {
    client.close();
    await cp.close();
  });
  client.send({ typeUrl: TypeUrl.Cluster });
  assert.equal((await client.next(5000)).resources.length, 1);
  await apply(group("dns:other.example.org"));
  const end = await client.ended;
  assert.equal(end.code, grpc.status.PERMISSION_DENIED);
  assert.match(end.details, /identity "spiffe:\/\/example\.org\/ns\/edge\/sa\/envoy" may not connect as node "edge-1" of node group "edge"/);
  const status = (await (await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/status`)).json()) as StatusReport;
  assert.deepEqual(status.refusals?.map((r) => [r.nodeId, r.group, r.identity, r.count]), [["edge-1", "edge", "spiffe://example.org/ns/edge/sa/envoy", 1]]);
  assert.ok(lines.some((l) => l.startsWith("xDS refused node edge-1")));
});

test("xdsLimits reach the xDS server: a node over maxNodeBytes is refused, and a disconnected proxy stays in its last group", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-main-"));
  const cp = await serve({
    ...onLoopback,
    dataDir: dir,
    examplePath: defaultExamplePath,
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
