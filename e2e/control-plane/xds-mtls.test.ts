// xDS over mTLS through the runnable control plane, with real Envoys and
// certificates made by openssl in a temp dir: an Envoy whose certificate
// identity its NodeGroup allows is configured and serves traffic; one with no
// client certificate, or one from another CA, fails the TLS handshake; one with
// a valid certificate for group "edge" that claims a node of group "internal"
// is refused with PERMISSION_DENIED, receives zero resources, and status
// carries the refusal with its reason. Rotating the server's certificate files
// keeps the connected Envoy's stream: it still gets changes, on the same connection.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TestPki, type TestCertFiles } from "@ts-control-plane/xds/testing";
import type { Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicListeners } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { startControlPlane } from "./control-plane-process.ts";

const edgeIdentity = "spiffe://example.org/ns/edge/sa/envoy";

const objects = (port: number, upstream: number) => `apiVersion: tcp.dev/v1alpha1
kind: NodeGroup
metadata:
  name: edge
spec:
  selector:
    clusters: [edge]
  identities: ["${edgeIdentity}"]
---
apiVersion: tcp.dev/v1alpha1
kind: NodeGroup
metadata:
  name: internal
spec:
  selector:
    clusters: [internal]
  identities: ["dns:internal.example.org"]
---
apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata:
  name: public
spec:
  protocol: HTTP
  address: 127.0.0.1
  port: ${port}
---
apiVersion: tcp.dev/v1alpha1
kind: Route
metadata:
  name: public-route
spec:
  listeners: [public]
  routes:
    - match: { prefix: / }
      backends:
        - service: web
---
apiVersion: tcp.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  endpoints:
    - address: 127.0.0.1
      port: ${upstream}
`;

/** The harness bootstrap with xds_cluster over TLS: trusts `caFile`, checks the server is "localhost", presents `client` when given. */
function mtlsBootstrap(options: { xdsPort: number; nodeId: string; nodeCluster: string; caFile: string; client?: TestCertFiles }): Json {
  const bootstrap = xdsBootstrap({ xdsPort: options.xdsPort, mode: "ads", nodeId: options.nodeId, nodeCluster: options.nodeCluster }) as {
    static_resources: { clusters: Record<string, Json>[] };
  };
  const xdsCluster = bootstrap.static_resources.clusters[0];
  assert.ok(xdsCluster);
  xdsCluster["transport_socket"] = {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
      sni: "localhost",
      common_tls_context: {
        alpn_protocols: ["h2"],
        ...(options.client === undefined ? {} : { tls_certificates: [{ certificate_chain: { filename: options.client.certFile }, private_key: { filename: options.client.keyFile } }] }),
        validation_context: { trusted_ca: { filename: options.caFile }, match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: "localhost" } }] },
      },
    },
  };
  return bootstrap as unknown as Json;
}

type Status = {
  nodes: { nodeId: string; group: string | null; state: string }[];
  refusals?: { nodeId: string; cluster: string; group: string | null; identity: string; fingerprint256: string; reason: string; count: number }[];
};

test("xDS over mTLS: allowed identities are configured; no or foreign certificates fail the handshake; a certificate claiming another group is refused", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-mtls-"));
  const pki = await TestPki.create({ commonName: "mesh CA" });
  const other = await TestPki.create({ commonName: "another CA" });
  t.after(async () => {
    await pki.dispose();
    await other.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const server = await pki.issue({ name: "xds-server", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
  const edgeCert = await pki.issue({ name: "edge", commonName: "edge", sans: [`URI:${edgeIdentity}`] });
  const foreignCert = await other.issue({ name: "edge", commonName: "edge", sans: [`URI:${edgeIdentity}`] });

  const web = await startHttpUpstream({ name: "web", t });
  const publicPort = await freePort();
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    extraArgs: ["--xds-tls-cert", server.certFile, "--xds-tls-key", server.keyFile, "--xds-client-ca", pki.caFile],
    t,
  });
  await cp.waitForLog(/xDS TLS: mTLS, client certificates must chain to/, { timeoutMs: 1000 });
  const applied = await fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: objects(publicPort, web.port) });
  assert.equal(applied.status, 200, await applied.clone().text());

  // Allowed: configured over mTLS and serving traffic.
  const edge = await startEnvoy({ bootstrap: mtlsBootstrap({ xdsPort: cp.xdsPort, nodeId: "edge-1", nodeCluster: "edge", caFile: pki.caFile, client: edgeCert }), name: "cp-mtls-edge", t });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${publicPort}/`)).body === "served by web\n", { timeoutMs: 15_000, description: "the mTLS Envoy serves the public listener" });
  assert.deepEqual(dynamicListeners(await edge.configDump()).map((l) => l.name), ["public"]);

  // Refused at the handshake: no client certificate, and one from another CA.
  const noCert = await startEnvoy({ bootstrap: mtlsBootstrap({ xdsPort: cp.xdsPort, nodeId: "edge-2", nodeCluster: "edge", caFile: pki.caFile }), name: "cp-mtls-nocert", readyWhen: "admin", t });
  const foreign = await startEnvoy({
    bootstrap: mtlsBootstrap({ xdsPort: cp.xdsPort, nodeId: "edge-3", nodeCluster: "edge", caFile: pki.caFile, client: foreignCert }),
    name: "cp-mtls-foreign",
    readyWhen: "admin",
    t,
  });
  // The claimant: a valid certificate for group edge, claiming a node of group internal.
  const claimant = await startEnvoy({
    bootstrap: mtlsBootstrap({ xdsPort: cp.xdsPort, nodeId: "internal-1", nodeCluster: "internal", caFile: pki.caFile, client: edgeCert }),
    name: "cp-mtls-claimant",
    readyWhen: "admin",
    t,
  });
  // Envoy counts a TLS connection the server ends during the handshake as a
  // failed connect (a connection is "connected" once TLS completes).
  for (const envoy of [noCert, foreign]) {
    await waitUntil(async () => ((await envoy.stats("^cluster\\.xds_cluster\\.upstream_cx_connect_fail$")).get("cluster.xds_cluster.upstream_cx_connect_fail") ?? 0) > 0, {
      timeoutMs: 15_000,
      description: `${envoy.name}: the TLS handshake with the control plane fails`,
    });
  }
  const status = await waitUntil(
    async () => {
      const s = (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as Status;
      return s.refusals?.some((r) => r.nodeId === "internal-1") === true ? s : undefined;
    },
    { timeoutMs: 15_000, description: "status shows the refusal of internal-1" },
  );
  const refusal = status.refusals?.find((r) => r.nodeId === "internal-1");
  assert.equal(refusal?.cluster, "internal");
  assert.equal(refusal?.group, "internal");
  assert.equal(refusal?.identity, edgeIdentity);
  assert.match(refusal?.fingerprint256 ?? "", /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
  assert.match(refusal?.reason ?? "", /may not connect as node "internal-1" of node group "internal": add it to the NodeGroup's spec.identities/);
  // Envoy logs the status message as received: gRPC percent-encodes only what
  // is outside printable ASCII (and '%'), so the reason reads as written
  // (grpc-js also encodes spaces, as %20).
  await waitUntil(() => /closed: 7, .*may( |%20)not( |%20)connect( |%20)as( |%20)node/.test(claimant.logs()), { timeoutMs: 10_000, description: "Envoy logs PERMISSION_DENIED (7) with the reason" });
  // The log is JSON lines here (not a terminal): quotes in the message come escaped.
  assert.match(cp.logs(), /xDS refused node internal-1 \(cluster \\?"internal\\?"/);
  // Neither the refused nor the handshake-failed Envoys hold anything, nor appear as nodes.
  for (const envoy of [claimant, noCert, foreign]) {
    const dump = await envoy.configDump();
    assert.deepEqual([dynamicListeners(dump).length, dynamicClusters(dump).length], [0, 0], envoy.name);
  }
  assert.deepEqual(status.nodes.map((n) => n.nodeId), ["edge-1"]);
  assert.equal(status.refusals?.length, 1, "handshake failures never reach authorization");

  // Rotation: new server certificate files in place; the edge Envoy keeps its connection and stream.
  const connections = async () => (await edge.stats("^cluster\\.xds_cluster\\.upstream_cx_total$")).get("cluster.xds_cluster.upstream_cx_total");
  const before = await connections();
  const rotated = await pki.issue({ name: "xds-server-2", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
  writeFileSync(server.keyFile, readFileSync(rotated.keyFile));
  writeFileSync(server.certFile, readFileSync(rotated.certFile));
  await cp.waitForLog(/xDS TLS: re-read /, { timeoutMs: 10_000 });
  const web2 = await startHttpUpstream({ name: "web2", t });
  const changed = await fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: objects(publicPort, web2.port) });
  assert.equal(changed.status, 200, await changed.clone().text());
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${publicPort}/`)).body === "served by web2\n", { timeoutMs: 15_000, description: "the edge Envoy follows a change after the rotation" });
  assert.equal(await connections(), before, "no reconnect: the stream opened before the rotation carried the change");
});
