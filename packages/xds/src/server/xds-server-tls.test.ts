// xDS over TLS and mTLS with real certificates (openssl, in a temp dir):
// bad files refused at start naming the file, client certificates required
// with a CA, `authorize` seeing the verified peer and refusing with
// PERMISSION_DENIED before anything is sent, and rotation without dropping streams.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { X509Certificate } from "node:crypto";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { XdsError } from "../resource/xds-error.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { TestPki, type TestCertFiles } from "../../testing/test-pki.ts";
import type { XdsPeerCertificate } from "./authorize-stream.ts";
import { createTlsCredentials, loadTlsFiles } from "./tls-credentials.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const serverSans = ["DNS:localhost", "IP:127.0.0.1"];

/** The fingerprint of the certificate a TLS handshake with the server presents ("" when the handshake fails). */
const serverFingerprint = (port: number): Promise<string> =>
  new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false, ALPNProtocols: ["h2"] }, () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? "");
      s.destroy();
    });
    s.on("error", reject);
  }).catch(() => "");

const refused = (fn: () => unknown, file: string, reason: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof XdsError && e.code === "invalid_tls" && e.details[0] === file && reason.test(e.message) && e.message.startsWith(file));
};

describe("TLS files are checked at start", () => {
  let pki: TestPki;
  let server: TestCertFiles;
  let other: TestCertFiles;
  before(async () => {
    pki = await TestPki.create();
    server = await pki.issue({ name: "server", commonName: "localhost", sans: serverSans });
    other = await pki.issue({ name: "other", commonName: "other" });
  });
  after(() => pki.dispose());

  test("good files load; every bad one is refused with its file and reason", async () => {
    const ok = loadTlsFiles({ ...server, clientCaFile: pki.caFile });
    assert.ok(ok.notAfter > new Date());
    const missing = join(pki.dir, "missing.pem");
    refused(() => loadTlsFiles({ certFile: missing, keyFile: server.keyFile }), missing, /cannot read the server certificate \(ENOENT\)/);
    refused(() => loadTlsFiles({ ...server, clientCaFile: missing }), missing, /client CA bundle/);
    const garbage = join(pki.dir, "garbage.pem");
    await writeFile(garbage, "not a certificate\n");
    refused(() => loadTlsFiles({ certFile: garbage, keyFile: server.keyFile }), garbage, /no PEM certificate/);
    refused(() => loadTlsFiles({ certFile: server.certFile, keyFile: garbage }), garbage, /not a PEM private key/);
    refused(() => loadTlsFiles({ ...server, clientCaFile: garbage }), garbage, /no PEM certificate in the client CA bundle/);
    refused(() => loadTlsFiles({ certFile: server.certFile, keyFile: other.keyFile }), other.keyFile, /does not match the certificate/);
    const day = 86_400_000;
    refused(() => loadTlsFiles({ ...server, now: new Date(Date.now() + 3 * day) }), server.certFile, /expired at/);
    refused(() => loadTlsFiles({ ...server, now: new Date(Date.now() - day) }), server.certFile, /not valid before/);
    // The server refuses to listen with them, before binding.
    const xds = createXdsServer({ cache: createSnapshotCache(), tls: { certFile: server.certFile, keyFile: other.keyFile } });
    await assert.rejects(xds.listen({ port: 0 }), (e: unknown) => e instanceof XdsError && e.code === "invalid_tls");
    await xds.close();
    assert.throws(() => createTlsCredentials({ ...server, watchIntervalMs: -1 }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
  });
});

describe("xDS over mTLS", () => {
  let pki: TestPki;
  let strangers: TestPki;
  let cache: SnapshotCache;
  let xds: XdsServer;
  let port: number;
  let serving: TestCertFiles;
  const seen: Array<{ nodeId: string; peer: XdsPeerCertificate | undefined }> = [];
  const clients: RawXdsClient[] = [];
  const reloads: string[] = [];
  const credsFor = async (_issuer: TestPki, cert: TestCertFiles | undefined): Promise<grpc.ChannelCredentials> =>
    grpc.credentials.createSsl(await readFile(pki.caFile), cert ? await readFile(cert.keyFile) : null, cert ? await readFile(cert.certFile) : null);
  const client = (nodeId: string, credentials: grpc.ChannelCredentials): RawXdsClient => {
    const c = new RawXdsClient({ port, nodeId, credentials });
    clients.push(c);
    return c;
  };

  before(async () => {
    pki = await TestPki.create();
    strangers = await TestPki.create({ commonName: "another CA" });
    const issued = await pki.issue({ name: "server", commonName: "localhost", sans: serverSans });
    // The server reads copies, so the test can rotate them in place.
    serving = { certFile: join(pki.dir, "serving.pem"), keyFile: join(pki.dir, "serving-key.pem") };
    await copyFile(issued.certFile, serving.certFile);
    await copyFile(issued.keyFile, serving.keyFile);
    cache = createSnapshotCache();
    await cache.setSnapshot("edge-1", createSnapshot({ resources: [edsCluster("a"), endpoints("a", [1])] }));
    await cache.setSnapshot("edge-2", createSnapshot({ resources: [edsCluster("a"), endpoints("a", [1])] }));
    xds = createXdsServer({
      cache,
      tls: { ...serving, clientCaFile: pki.caFile, watchIntervalMs: 50, onReload: (o) => reloads.push(o.ok ? "ok" : o.error.message) },
      authorize: (node, peer) => {
        seen.push({ nodeId: node.id, peer });
        return peer?.identity === `spiffe://example.org/ns/edge/sa/${node.id}` ? { allowed: true } : { allowed: false, reason: `identity ${peer?.identity} may not be node ${node.id}` };
      },
    });
    port = await xds.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await xds.close({ graceMs: 100 });
    await pki.dispose();
    await strangers.dispose();
  });

  test("a client with a certificate from the CA is served; authorize sees its SANs and fingerprint", async () => {
    const cert = await pki.issue({ name: "edge-1", commonName: "edge one", sans: ["URI:spiffe://example.org/ns/edge/sa/edge-1", "DNS:edge-1.example.org"] });
    const c = client("edge-1", await credsFor(pki, cert));
    c.send({ typeUrl: TypeUrl.Cluster });
    const r = await c.next(5000);
    assert.equal(r.resources.length, 1);
    const peer = seen.find((s) => s.nodeId === "edge-1")?.peer;
    const x509 = new X509Certificate(await readFile(cert.certFile));
    assert.deepEqual(peer, {
      commonName: "edge one",
      uriSans: ["spiffe://example.org/ns/edge/sa/edge-1"],
      dnsSans: ["edge-1.example.org"],
      fingerprint256: x509.fingerprint256,
      identity: "spiffe://example.org/ns/edge/sa/edge-1",
    });
    // The same stream claiming another node later is asked again and refused.
    c.send({ typeUrl: TypeUrl.Cluster, nodeId: "edge-2", versionInfo: r.versionInfo, responseNonce: r.nonce });
    const end = await c.ended;
    assert.equal(end.code, grpc.status.PERMISSION_DENIED);
    assert.match(end.details, /may not be node edge-2/);
  });

  test("a certificate for one node claiming another is refused with PERMISSION_DENIED and nothing is sent", async () => {
    const cert = await pki.issue({ name: "edge-1b", commonName: "edge", sans: ["URI:spiffe://example.org/ns/edge/sa/edge-1"] });
    const c = client("edge-2", await credsFor(pki, cert));
    c.send({ typeUrl: TypeUrl.Cluster });
    const end = await c.ended;
    assert.equal(end.code, grpc.status.PERMISSION_DENIED);
    assert.equal(end.details, "identity spiffe://example.org/ns/edge/sa/edge-1 may not be node edge-2");
    assert.equal(c.responses.length, 0);
    assert.equal(xds.status.node("edge-2"), undefined, "a refused stream never opened");
  });

  test("no client certificate, or one from another CA, fails the handshake", async () => {
    const foreign = await strangers.issue({ name: "edge-1", commonName: "edge", sans: ["URI:spiffe://example.org/ns/edge/sa/edge-1"] });
    for (const creds of [await credsFor(pki, undefined), await credsFor(strangers, foreign)]) {
      const before = seen.length;
      const c = client("edge-1", creds);
      c.send({ typeUrl: TypeUrl.Cluster });
      const end = await c.ended;
      assert.equal(end.code, grpc.status.UNAVAILABLE, end.details);
      assert.equal(c.responses.length, 0);
      assert.equal(seen.length, before, "authorize is never reached");
    }
  });

  test("rotated files serve new handshakes while open streams stay; files that fail the checks are refused and the previous ones stay", async () => {
    const cert = await pki.issue({ name: "edge-1c", commonName: "edge", sans: ["URI:spiffe://example.org/ns/edge/sa/edge-1"] });
    const open = client("edge-1", await credsFor(pki, cert));
    open.send({ typeUrl: TypeUrl.Cluster });
    const first = await open.next(5000);
    const next = await pki.issue({ name: "server-2", commonName: "localhost", sans: serverSans });
    // A key that does not match: refused, the previous files keep serving.
    const served = new X509Certificate(await readFile(serving.certFile)).fingerprint256;
    await writeFile(serving.keyFile, await readFile(next.keyFile));
    const refusedBy = Date.now() + 5000;
    while (!reloads.some((r) => /does not match the certificate/.test(r)) && Date.now() < refusedBy) await new Promise((r) => setTimeout(r, 20));
    assert.ok(reloads.some((r) => r.startsWith(`${serving.keyFile}: the key does not match the certificate`)), reloads.join("\n"));
    assert.equal(await serverFingerprint(port), served, "the previous certificate still serves");
    // Then the certificate that goes with that key.
    await writeFile(serving.certFile, await readFile(next.certFile));
    const want = new X509Certificate(await readFile(next.certFile)).fingerprint256;
    const deadline = Date.now() + 5000;
    let got = "";
    while (got !== want && Date.now() < deadline) {
      got = await serverFingerprint(port);
      if (got !== want) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(got, want, "new handshakes present the rotated certificate");
    assert.ok(reloads.includes("ok"));
    // The stream opened before the rotation is still served.
    await cache.setSnapshot("edge-1", createSnapshot({ resources: [edsCluster("a"), edsCluster("b"), endpoints("a", [1]), endpoints("b", [1])] }));
    open.ack(first);
    const update = await open.next(5000);
    assert.equal(update.resources.length, 2);
  });
});

describe("re-authorization on rekey", () => {
  test("an open stream its node is no longer allowed as ends with PERMISSION_DENIED at the next rekey; allowed ones stay", async () => {
    const pki = await TestPki.create();
    const server = await pki.issue({ name: "server", commonName: "localhost", sans: serverSans });
    const cert = await pki.issue({ name: "edge", commonName: "edge", sans: ["URI:spiffe://example.org/ns/edge/sa/envoy"] });
    const cache = createSnapshotCache();
    await cache.setSnapshot("edge-1", createSnapshot({ resources: [edsCluster("a"), endpoints("a", [1])] }));
    await cache.setSnapshot("edge-2", createSnapshot({ resources: [edsCluster("a"), endpoints("a", [1])] }));
    let allowedNodes = new Set(["edge-1", "edge-2"]);
    const xds = createXdsServer({
      cache,
      tls: { ...server, clientCaFile: pki.caFile, watchIntervalMs: 0 },
      authorize: (node) => (allowedNodes.has(node.id) ? { allowed: true } : { allowed: false, reason: `node ${node.id} is no longer allowed` }),
    });
    const port = await xds.listen({ port: 0 });
    const creds = grpc.credentials.createSsl(await readFile(pki.caFile), await readFile(cert.keyFile), await readFile(cert.certFile));
    const one = new RawXdsClient({ port, nodeId: "edge-1", credentials: creds });
    const two = new RawXdsClient({ port, nodeId: "edge-2", credentials: creds });
    try {
      for (const c of [one, two]) {
        c.send({ typeUrl: TypeUrl.Cluster });
        await c.next(5000);
      }
      allowedNodes = new Set(["edge-1"]);
      xds.rekey();
      const end = await two.ended;
      assert.equal(end.code, grpc.status.PERMISSION_DENIED);
      assert.equal(end.details, "node edge-2 is no longer allowed");
      assert.equal(xds.metrics.openStreams, 1, "the allowed stream stays open");
    } finally {
      one.close();
      two.close();
      await xds.close({ graceMs: 100 });
      await pki.dispose();
    }
  });
});
