// Issue 13, "nothing leaks", with the real control plane process and a real Envoy:
// configuration holding private keys (an HTTPS listener's inline key, a RawResource
// Secret with a base64 inline_bytes key), then every admin endpoint, the CLI, the
// log and a CSDS answer are searched for the key material. Envoy itself serves TLS
// with the key: xDS still sends it to the proxy.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientStatusRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { createSelfSignedCert } from "../harness/self-signed-cert.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { insecureHttpsGet } from "./support/insecure-https-get.ts";

const object = (kind: string, name: string, spec: Json) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
/** What must appear nowhere: every PEM body line of the key, and the start of the base64 of the key file. */
const needles = (key: string): string[] => [...key.split("\n").filter((l) => l !== "" && !l.startsWith("-----")), Buffer.from(key).toString("base64").slice(0, 48)];

test("no admin endpoint, CLI output, log line or CSDS answer holds a private key; Envoy still serves TLS with it", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-no-leaks-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "service1", t });
  const httpsPort = await freePort();
  const [a, b, c] = [await createSelfSignedCert({ hostname: "127.0.0.1" }), await createSelfSignedCert({ hostname: "127.0.0.1" }), await createSelfSignedCert({ hostname: "raw" })];
  const dataDir = join(dir, "data");
  const cp = await startControlPlane({ dataDir, t });
  const server = cp.adminUrl;
  const answers: string[] = [];
  const call = async (method: string, path: string, body?: unknown, accept = "application/json") => {
    const r = await fetch(`${server}${path}`, { method, headers: { "content-type": "application/json", accept }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.text();
    answers.push(text);
    return { status: r.status, text };
  };
  const listener = (cert: { cert: string; key: string }) => object("Listener", "secure", { protocol: "HTTPS", address: "127.0.0.1", port: httpsPort, tls: { certificate: cert.cert, key: cert.key } });
  const raw = object("RawResource", "raw-secret", {
    resource: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
      name: "raw-secret",
      tls_certificate: { certificate_chain: { inline_string: c.cert }, private_key: { inline_bytes: Buffer.from(c.key).toString("base64") } },
    },
  });
  const base = [
    object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] }),
    object("Route", "all", { listeners: ["secure"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
    raw,
  ];
  assert.equal((await call("POST", "/api/v1/validate", [...base, listener(a)])).status, 200);
  assert.equal((await call("POST", "/api/v1/apply", [...base, listener(a)])).status, 200);

  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-no-leaks", t });
  const served = await waitUntil(
    async () => {
      const r = await insecureHttpsGet(`https://127.0.0.1:${httpsPort}/`).catch(() => undefined);
      return r?.body === "served by service1\n" ? r : undefined;
    },
    { timeoutMs: 15_000, description: "Envoy serves HTTPS with the configured key", onTimeout: () => envoy.logs(30) },
  );
  assert.ok(served.certificate.raw.length > 0);
  const status = async () => JSON.parse((await call("GET", "/api/v1/status")).text) as { nodes: { nodeId: string; state: string }[] };
  const node = await waitUntil(async () => (await status()).nodes.find((n) => n.nodeId === "edge-1"), { timeoutMs: 10_000, description: "edge-1 in status" });
  t.diagnostic(`edge-1 is ${node.state}`);

  // A rotation (key B), a refused change (key of another certificate), a diff and every read.
  assert.equal((await call("POST", "/api/v1/diff", [listener(b)])).status, 200);
  assert.equal((await call("POST", "/api/v1/apply", [listener(b)])).status, 200);
  assert.equal((await call("POST", "/api/v1/apply", [listener({ cert: a.cert, key: c.key })])).status, 422);
  for (const path of [
    "/healthz",
    "/api/v1/objects",
    "/api/v1/objects/Listener/secure",
    "/api/v1/objects/RawResource/raw-secret",
    "/api/v1/history",
    "/api/v1/history/1",
    "/api/v1/history/2",
    // The dashboard's revision diff: the rotation from key A to key B, and everything since revision 0.
    "/api/v1/history/diff?from=1&to=2",
    "/api/v1/history/diff?from=0",
    "/api/v1/status",
    "/api/v1/proxies/edge-1/config",
    "/api/v1/proxies/edge-1/config?type=secrets",
    "/api/v1/bootstrap?node=edge-1",
  ]) {
    for (const accept of ["application/json", "application/yaml"]) assert.equal((await call("GET", path, undefined, accept)).status, 200, path);
  }
  for (const args of [["get", "-o", "yaml"], ["get", "Listener", "secure", "-o", "json"], ["history", "1"], ["history", "2", "-o", "json"], ["proxy-config", "edge-1", "all", "-o", "yaml"], ["status"]]) {
    const r = await runCliProcess(args, { server });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    answers.push(r.stdout, r.stderr);
  }

  // CSDS on the xDS port, as any gRPC tool asks it.
  const client = new grpc.Client(`127.0.0.1:${cp.xdsPort}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  const csds = await new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(
      "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus",
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {}))),
      { deadline: Date.now() + 5000 },
      (error, value) => (error || !value ? reject(error ?? new Error("no CSDS answer")) : resolve(value)),
    ),
  );
  assert.ok(csds.toString("latin1").includes("secure"), "CSDS shows the listener");
  answers.push(csds.toString("latin1"));

  const everything = [...answers, cp.logs()].join("\n");
  for (const key of [a.key, b.key, c.key]) for (const needle of needles(key)) assert.ok(!everything.includes(needle), `leaked: ${needle}`);
  assert.ok(!everything.includes("PRIVATE KEY-----"), "no PEM private key block anywhere");
  assert.match(everything, /<redacted sha256:[0-9a-f]{12}>/);
  // The data directory and the store file are owner-only.
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dataDir, "control-plane.db")).mode & 0o777, 0o600);
});
