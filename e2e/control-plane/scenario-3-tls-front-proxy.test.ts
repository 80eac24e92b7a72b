// Scenario 3 through the runnable control plane, driven only by the example
// YAML (--config): an HTTPS front proxy terminating TLS with the example's
// self-signed certificate, generating request ids, and sending /version round
// robin to two local upstreams v1 and v2. Envoy boots from the bootstrap the
// CLI prints; its admin listener answers /stats. Twice: the certificate inline
// (scenario-3.yaml), and as files the control plane reads (tls-from-files.yaml).
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { examplesDir, loopbackListener, writeExampleCopy } from "./support/example-copy.ts";
import { insecureH2Get, insecureHttpsGet } from "./support/insecure-https-get.ts";
import { startRecordingUpstream } from "./support/recording-upstream.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("scenario 3: HTTPS front proxy from scenario-3.yaml (inline certificate): TLS, request ids, /version round robin v1/v2, admin stats", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-s3-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const docs = parseAllDocuments(readFileSync(join(examplesDir, "scenario-3.yaml"), "utf8"));
  const certificate = (Array.isArray(docs) ? docs : [docs]).map((d) => d.getIn(["spec", "tls", "certificate"])).find((c) => typeof c === "string");
  assert.equal(typeof certificate, "string", "scenario-3.yaml has an inline certificate");
  await frontProxy(t, { example: "scenario-3.yaml", dir, certificate: certificate as string });
});

test("scenario 3: HTTPS front proxy from tls-from-files.yaml (certificateFile/keyFile read by the control plane): the same", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-s3-files-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The files are named relative to the YAML file: the copy gets the example's certs/ beside it.
  cpSync(join(examplesDir, "certs"), join(dir, "certs"), { recursive: true });
  const certificate = readFileSync(join(examplesDir, "certs", "localhost.crt"), "utf8");
  await frontProxy(t, { example: "tls-from-files.yaml", dir, certificate });
});

async function frontProxy(t: TestContext, options: { example: string; dir: string; certificate: string }): Promise<void> {
  const { dir } = options;
  const v1 = await startRecordingUpstream({ body: "v1\n", t });
  const v2 = await startRecordingUpstream({ body: "v2\n", t });
  const listenerPort = await freePort();
  // The example as written, except its fixed ports (8000, 8081, 8082) become
  // the test's ephemeral ones and the listener stays on loopback.
  const config = writeExampleCopy(
    options.example,
    [
      { kind: "Listener", name: "listener_https", path: ["spec", "port"], value: listenerPort },
      loopbackListener("listener_https"),
      { kind: "Service", name: "version", path: ["spec", "endpoints", 0, "port"], value: v1.port },
      { kind: "Service", name: "version", path: ["spec", "endpoints", 1, "port"], value: v2.port },
    ],
    dir,
  );

  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [config], t });
  const boot = await runCliProcess(["bootstrap", "--node", "front-1"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: `cp-scenario3-${options.example.replace(/\.yaml$/, "")}`, t });

  const url = `https://127.0.0.1:${listenerPort}/version`;
  // Like `curl -k`: the certificate is self-signed; the checks below pin it instead.
  const first = await waitUntil(
    async () => {
      const r = await insecureHttpsGet(url, { servername: "localhost" });
      return r.status === 200 && r;
    },
    { timeoutMs: 15_000, description: "Envoy answers /version over HTTPS" },
  );

  // The certificate Envoy presents is the example's.
  const expected = new X509Certificate(options.certificate);
  assert.equal(first.certificate.fingerprint256, expected.fingerprint256, "Envoy presents the example's certificate");
  assert.equal(first.certificate.subject.CN, "localhost");
  assert.equal(first.alpn, "http/1.1", "ALPN settles on HTTP/1.1 for a client that offers only that");

  // Counts below are deltas from here: only the successful first request reached
  // an upstream, but a retry before the listener was up may have touched the stats.
  const statsFilter = "^(http\\.listener_https\\.|listener\\.127\\.0\\.0\\.1_|cluster\\.version\\.upstream_rq_2xx$)";
  const before = await envoy.stats(statsFilter);
  const seenBefore = v1.requests.length + v2.requests.length;

  // Round robin across two endpoints: consecutive answers alternate (v1, v2, v1, v2 ...).
  const bodies: string[] = [first.body.trim()];
  for (let i = 0; i < 7; i++) {
    const r = await insecureHttpsGet(url, { servername: "localhost" });
    assert.equal(r.status, 200, r.body);
    bodies.push(r.body.trim());
  }
  t.diagnostic(`answers: ${bodies.join(", ")}`);
  assert.deepEqual(new Set(bodies), new Set(["v1", "v2"]));
  for (let i = 1; i < bodies.length; i++) assert.notEqual(bodies[i], bodies[i - 1], `round robin alternates: ${bodies.join(", ")}`);

  // Request ids: Envoy generated one per request (the client sent none), a fresh UUID each time.
  const seen = [...v1.requests, ...v2.requests];
  assert.equal(seenBefore, 1, "the first answer came from one upstream request");
  assert.equal(seen.length, 8, "every request reached an upstream once");
  const ids = seen.map((r) => r.headers["x-request-id"]);
  for (const id of ids) assert.match(String(id), uuid, "the upstream sees a generated x-request-id");
  assert.equal(new Set(ids).size, ids.length, "each request gets its own id");
  assert.ok(seen.every((r) => r.path === "/version"));

  // A request outside the route's prefix gets Envoy's 404, not an upstream.
  const other = await insecureHttpsGet(`https://127.0.0.1:${listenerPort}/other`, { servername: "localhost" });
  assert.equal(other.status, 404);
  assert.equal(v1.requests.length + v2.requests.length, 8);

  // Envoy's admin listener is reachable for stats, and they count what happened.
  const after = await envoy.stats(statsFilter);
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const handshakes = `listener.127.0.0.1_${listenerPort}.ssl.handshake`;
  t.diagnostic(`admin ${envoy.adminUrl}/stats: ${JSON.stringify(Object.fromEntries([...after].filter(([k]) => /ssl\.handshake$|downstream_rq_total$|downstream_rq_[24]xx$|upstream_rq_2xx$/.test(k))))}`);
  assert.equal(delta("http.listener_https.downstream_rq_total"), 8);
  assert.equal(delta("http.listener_https.downstream_rq_2xx"), 7);
  assert.equal(delta("http.listener_https.downstream_rq_4xx"), 1);
  assert.equal(delta("cluster.version.upstream_rq_2xx"), 7);
  assert.equal(delta(handshakes), 8, "one TLS handshake per connection");
  const prometheus = await httpGet(`${envoy.adminUrl}/stats/prometheus`);
  assert.equal(prometheus.status, 200);
  assert.match(prometheus.body, /envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="listener_https"\} \d+/);

  // What `curl -k` actually does: offer h2 first. The listener negotiates it
  // over ALPN, and the next endpoint in the rotation answers.
  const h2 = await insecureH2Get(url, { servername: "localhost" });
  assert.equal(h2.alpn, "h2");
  assert.equal(h2.status, 200);
  assert.equal(h2.body.trim(), bodies.at(-1) === "v1" ? "v2" : "v1", "round robin goes on over HTTP/2");
}
