// A Secret object served over SDS on the ADS stream (issue 13): an HTTPS listener whose
// certificate comes from a Secret serves; under a request loop the Secret is updated to a
// new certificate through the admin API, and Envoy swaps it in without touching the
// listener: zero failed requests, the new certificate is presented, and
// listener_manager.listener_modified stays 0 with nothing draining. And mTLS from Secrets
// both ways: a listener requiring client certificates, a cluster verifying its upstream and
// presenting a client certificate.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import type { TLSSocket } from "node:tls";
import { TestPki } from "@ts-control-plane/xds/testing";
import { parse, stringify } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { startRecordingUpstream } from "./support/recording-upstream.ts";

interface Answer {
  readonly at: number;
  /** When the answer (or the error) was complete. */
  readonly doneAt: number;
  readonly status: number;
  /** SHA-256 fingerprint of the certificate Envoy presented. */
  readonly fingerprint: string;
  readonly error?: string;
}

/**
 * One GET over a fresh TLS connection (a new handshake each time, so a new certificate
 * shows on the next request), verifying Envoy's certificate against the test CA.
 */
function httpsGet(url: string, ca: string): Promise<Answer> {
  const at = Date.now();
  return new Promise((resolve) => {
    const req = request(url, { ca, servername: "localhost", agent: false, timeout: 2000 }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on("end", () => resolve({ at, doneAt: Date.now(), status: res.statusCode ?? 0, fingerprint }));
      res.on("error", (e) => resolve({ at, doneAt: Date.now(), status: 0, fingerprint, error: e.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e) => resolve({ at, doneAt: Date.now(), status: 0, fingerprint: "", error: e.message }));
    req.end();
  });
}

const object = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });

test("SDS: a Secret rotated under load: zero failed requests, the new certificate is served, the listener is not modified", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-sds-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await TestPki.create({ commonName: "sds e2e CA" });
  t.after(() => pki.dispose());
  const first = await pki.issue({ name: "first", commonName: "localhost", sans: ["DNS:localhost"] });
  const second = await pki.issue({ name: "second", commonName: "localhost", sans: ["DNS:localhost"] });
  const ca = readFileSync(pki.caFile, "utf8");
  const fp1 = new X509Certificate(readFileSync(first.certFile)).fingerprint256;
  const fp2 = new X509Certificate(readFileSync(second.certFile)).fingerprint256;
  assert.notEqual(fp1, fp2);

  const upstream = await startRecordingUpstream({ body: "ok\n", t });
  const port = await freePort();
  // The Secret's first certificate comes from files the control plane reads (relative to the YAML).
  const config = join(dir, "sds.yaml");
  writeFileSync(
    config,
    [
      object("Secret", "web-cert", { tlsCertificate: { certificateFile: relative(dir, first.certFile), keyFile: relative(dir, first.keyFile) } }),
      object("Listener", "https", { protocol: "HTTPS", address: "127.0.0.1", port, tls: { secret: "web-cert" } }),
      object("Route", "web", { listeners: ["https"], routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }] }] }),
      object("Service", "web", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] }),
    ]
      .map((o) => stringify(o))
      .join("---\n"),
  );
  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [config], t });
  const boot = await runCliProcess(["bootstrap", "--node", "sds-1"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-sds-rotation", t });

  const url = `https://127.0.0.1:${port}/`;
  const served = await waitUntil(
    async () => {
      const a = await httpsGet(url, ca);
      return a.status === 200 && a;
    },
    { timeoutMs: 20_000, description: "Envoy serves HTTPS with the Secret's certificate" },
  );
  assert.equal(served.fingerprint, fp1, "the listener presents the Secret's first certificate, verified against the CA");
  const statsFilter = "^listener_manager\\.(listener_modified|listener_removed|listener_in_place_updated|total_listeners_draining|listener_create_success)$";
  const before = await envoy.stats(statsFilter);
  t.diagnostic(`before: ${JSON.stringify(Object.fromEntries(before))}`);

  // A request loop: sequential GETs, each on its own connection, until stopped.
  const answers: Answer[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      answers.push(await httpsGet(url, ca));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  t.after(async () => {
    stopping = true;
    await loop;
  });
  await waitUntil(() => answers.length >= 10, { timeoutMs: 10_000, description: "the loop runs" });

  // Rotate: the admin API takes the PEM inline (it never reads files on its machine).
  const current = (await (await fetch(`${cp.adminUrl}/api/v1/objects/Secret/web-cert`)).json()) as { revision: number };
  const rotated = object("Secret", "web-cert", { tlsCertificate: { certificate: readFileSync(second.certFile, "utf8"), key: readFileSync(second.keyFile, "utf8") } });
  const put = await fetch(`${cp.adminUrl}/api/v1/objects/Secret/web-cert?expectedRevision=${current.revision}`, {
    method: "PUT",
    headers: { "content-type": "application/yaml" },
    body: stringify(rotated),
  });
  assert.equal(put.status, 200, await put.clone().text());
  const appliedAt = Date.now();
  const switched = await waitUntil(() => answers.find((a) => a.at >= appliedAt && a.fingerprint === fp2), { timeoutMs: 10_000, description: "the new certificate is served" });
  // The first request that started after the PUT returned and saw the new certificate: the
  // rotation took at most until its handshake, i.e. before it completed.
  const switchMs = { started: switched.at - appliedAt, completed: switched.doneAt - appliedAt };
  const lastOld = answers.filter((a) => a.at >= appliedAt && a.fingerprint === fp1).length;
  // Keep the loop going a little after the switch: connections keep succeeding on the new certificate.
  const seen = answers.length;
  await waitUntil(() => answers.length >= seen + 20, { timeoutMs: 10_000, description: "20 more requests after the switch" });
  stopping = true;
  await loop;

  const failed = answers.filter((a) => a.status !== 200 || a.error !== undefined);
  const afterSwitch = answers.filter((a) => a.at > switched.at);
  t.diagnostic(`${answers.length} requests, ${failed.length} failed; admin PUT returned -> new certificate served: the first request with it started +${switchMs.started} ms and completed +${switchMs.completed} ms (${lastOld} requests after the PUT still saw the old one)`);
  assert.deepEqual(failed, [], "zero failed requests across the rotation");
  assert.ok(answers.every((a) => a.fingerprint === fp1 || a.fingerprint === fp2));
  assert.ok(afterSwitch.every((a) => a.fingerprint === fp2), "once the new certificate is served, the old one never comes back");

  const after = await envoy.stats(statsFilter);
  t.diagnostic(`after: ${JSON.stringify(Object.fromEntries(after))}`);
  assert.equal(after.get("listener_manager.listener_modified"), 0, "the Listener was not modified");
  assert.equal(after.get("listener_manager.listener_in_place_updated") ?? 0, 0, "not even an in-place filter chain update");
  assert.equal(after.get("listener_manager.listener_removed") ?? 0, 0);
  assert.equal(after.get("listener_manager.total_listeners_draining"), 0, "nothing drains");
  assert.equal(after.get("listener_manager.listener_create_success"), before.get("listener_manager.listener_create_success"), "no listener was created again");
  // Envoy took the new Secret over SDS: the first one and the rotated one, none refused.
  const sds = await envoy.stats("^sds\\.web-cert\\.");
  t.diagnostic(`sds: ${JSON.stringify(Object.fromEntries(sds))}`);
  assert.equal(sds.get("sds.web-cert.update_success"), 2);
  assert.equal(sds.get("sds.web-cert.update_rejected"), 0);
});

test("SDS: mTLS both ways from Secrets: clients need a certificate the CA Secret verifies; upstream TLS verifies the upstream and presents Envoy's client Secret", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-sds-mtls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await TestPki.create({ commonName: "sds mtls CA" });
  t.after(() => pki.dispose());
  const issue = async (name: string, commonName: string) => {
    const f = await pki.issue({ name, commonName, sans: ["DNS:localhost", "IP:127.0.0.1"] });
    return { cert: readFileSync(f.certFile, "utf8"), key: readFileSync(f.keyFile, "utf8") };
  };
  const listenerCert = await issue("listener", "localhost");
  const client = await issue("client", "downstream-client");
  const envoyClient = await issue("envoy-client", "envoy-as-client");
  const upstreamCert = await issue("upstream", "localhost");
  const ca = readFileSync(pki.caFile, "utf8");

  // The upstream speaks TLS and requires a client certificate signed by the CA.
  const seenClients: string[] = [];
  const upstream = createHttpsServer({ cert: upstreamCert.cert, key: upstreamCert.key, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seenClients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    res.end("secure upstream\n");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => upstream.close(() => r())));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  const port = await freePort();
  const config = join(dir, "mtls.yaml");
  writeFileSync(
    config,
    [
      object("Secret", "listener-cert", { tlsCertificate: { certificate: listenerCert.cert, key: listenerCert.key } }),
      object("Secret", "ca", { validationContext: { caCertificates: ca } }),
      object("Secret", "envoy-client", { tlsCertificate: { certificate: envoyClient.cert, key: envoyClient.key } }),
      object("Listener", "mtls", { protocol: "HTTPS", address: "127.0.0.1", port, tls: { secret: "listener-cert", clientValidationSecret: "ca" } }),
      object("Route", "web", { listeners: ["mtls"], routes: [{ match: { prefix: "/" }, backends: [{ service: "secure" }] }] }),
      object("Service", "secure", { endpoints: [{ address: "127.0.0.1", port: upstreamPort }], tls: { sni: "localhost", validationSecret: "ca", clientSecret: "envoy-client" } }),
    ]
      .map((o) => stringify(o))
      .join("---\n"),
  );
  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [config], t });
  const boot = await runCliProcess(["bootstrap", "--node", "sds-mtls-1"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-sds-mtls", t });

  const url = `https://127.0.0.1:${port}/`;
  const get = (withCert: boolean) =>
    new Promise<{ status: number; body: string; error?: string }>((resolve) => {
      const req = request(url, { ca, servername: "localhost", agent: false, timeout: 2000, ...(withCert ? { cert: client.cert, key: client.key } : {}) }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", (e) => resolve({ status: 0, body, error: e.message }));
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => resolve({ status: 0, body: "", error: e.message }));
      req.end();
    });
  const ok = await waitUntil(
    async () => {
      const a = await get(true);
      return a.status === 200 && a;
    },
    { timeoutMs: 20_000, description: "Envoy serves a client with a CA-signed certificate" },
  );
  assert.equal(ok.body, "secure upstream\n", "the answer came through Envoy's TLS connection to the upstream");
  assert.ok(seenClients.length > 0 && seenClients.every((cn) => cn === "envoy-as-client"), `the upstream saw Envoy's client Secret: ${seenClients.join(", ")}`);

  const seen = seenClients.length;
  const refused = await get(false);
  t.diagnostic(`without a client certificate: ${JSON.stringify(refused)}`);
  assert.notEqual(refused.status, 200, "a client without a certificate is refused");
  assert.equal(seenClients.length, seen, "and never reaches the upstream");
  const stats = await envoy.stats(`^(listener\\.127\\.0\\.0\\.1_${port}\\.ssl\\.fail_verify_no_cert|cluster\\.secure\\.ssl\\.handshake)$`);
  t.diagnostic(JSON.stringify(Object.fromEntries(stats)));
  assert.ok((stats.get(`listener.127.0.0.1_${port}.ssl.fail_verify_no_cert`) ?? 0) >= 1, "Envoy counts the missing client certificate");
  assert.ok((stats.get("cluster.secure.ssl.handshake") ?? 0) >= 1, "Envoy's upstream connection is TLS");
});
