// TLS both ways (issue 8): one HTTPS listener with three certificates. The client's SNI picks
// the certificate (api.example.com, www.example.com, anything else: the default) and the Host
// header the routes. Client certificates are optional but verified when presented; TLS 1.3 at
// least; ALPN http/1.1 only. Upstream, Envoy verifies the backend's certificate: against the
// right CA with the right SAN it gets through (and presents its client certificate to a backend
// that requires one); against a wrong CA, or with a SAN the certificate lacks, it is a 503.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  readonly status: number;
  readonly body: string;
  /** Common name of the certificate Envoy presented. */
  readonly servedCn: string;
  readonly alpn: string | false | null;
  readonly error?: string;
}

interface Pem {
  readonly cert: string;
  readonly key: string;
}

const object = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });

test("TLS both ways: SNI picks certificate and backend; upstream verification fails with a wrong CA or SAN and succeeds with the right ones", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-tls-both-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await TestPki.create({ commonName: "tls both ways CA" });
  t.after(() => pki.dispose());
  const otherPki = await TestPki.create({ commonName: "some other CA" });
  t.after(() => otherPki.dispose());
  const issue = async (from: TestPki, name: string, sans: string[]): Promise<Pem> => {
    const f = await from.issue({ name, commonName: name, sans });
    return { cert: readFileSync(f.certFile, "utf8"), key: readFileSync(f.keyFile, "utf8") };
  };
  const ca = readFileSync(pki.caFile, "utf8");
  const otherCa = readFileSync(otherPki.caFile, "utf8");
  const api = await issue(pki, "api.example.com", ["DNS:api.example.com"]);
  const www = await issue(pki, "www.example.com", ["DNS:www.example.com"]);
  const fallback = await issue(pki, "localhost", ["DNS:localhost"]);
  const backend = await issue(pki, "backend.internal", ["DNS:backend.internal"]);
  const envoyClient = await issue(pki, "envoy-client", ["DNS:envoy-client"]);
  const client = await issue(pki, "good-client", ["DNS:good-client"]);
  const strangerClient = await issue(otherPki, "stranger", ["DNS:stranger"]);

  // The TLS backend requires a client certificate from the CA and records the SNI it was asked for.
  const seen: { sni: string; clientCn: string }[] = [];
  const secure = createHttpsServer({ cert: backend.cert, key: backend.key, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const s = req.socket as TLSSocket & { servername?: string };
    seen.push({ sni: String(s.servername), clientCn: String(s.getPeerCertificate().subject?.CN) });
    res.end("api backend\n");
  });
  await new Promise<void>((r) => secure.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => secure.close(() => r())));
  const securePort = (secure.address() as AddressInfo).port;
  const plain = await startRecordingUpstream({ body: "www backend\n", t });

  const port = await freePort();
  const tlsTo = (extra: Record<string, unknown>) => ({ endpoints: [{ address: "127.0.0.1", port: securePort }], tls: { sni: "backend.internal", clientSecret: "envoy-client", ...extra } });
  const config = join(dir, "tls.yaml");
  writeFileSync(
    config,
    [
      object("Secret", "api-cert", { tlsCertificate: { certificate: api.cert, key: api.key } }),
      object("Secret", "envoy-client", { tlsCertificate: { certificate: envoyClient.cert, key: envoyClient.key } }),
      object("Secret", "ca", { validationContext: { caCertificates: ca } }),
      object("Secret", "other-ca", { validationContext: { caCertificates: otherCa } }),
      object("Listener", "front", {
        protocol: "HTTPS",
        address: "127.0.0.1",
        port,
        tls: {
          certificates: [
            { secret: "api-cert", serverNames: ["api.example.com"] },
            { certificate: www.cert, key: www.key, serverNames: ["www.example.com"] },
            { certificate: fallback.cert, key: fallback.key },
          ],
          clientValidationSecret: "ca",
          clientCertificate: "optional",
          minVersion: "TLSv1_3",
          alpn: ["http/1.1"],
        },
      }),
      object("Route", "api", { listeners: ["front"], domains: ["api.example.com"], routes: [{ match: { prefix: "/" }, backends: [{ service: "api" }] }] }),
      object("Route", "www", { listeners: ["front"], domains: ["www.example.com"], routes: [{ match: { prefix: "/" }, backends: [{ service: "www" }] }] }),
      object("Route", "checks", {
        listeners: ["front"],
        domains: ["localhost"],
        routes: [
          { match: { prefix: "/wrong-ca" }, backends: [{ service: "wrong-ca" }] },
          { match: { prefix: "/wrong-san" }, backends: [{ service: "wrong-san" }] },
        ],
      }),
      object("Service", "api", tlsTo({ validationSecret: "ca", subjectAltNames: ["DNS:backend.internal"] })),
      object("Service", "wrong-ca", tlsTo({ validationSecret: "other-ca" })),
      object("Service", "wrong-san", tlsTo({ validationSecret: "ca", subjectAltNames: ["DNS:someone-else.internal"] })),
      object("Service", "www", { endpoints: [{ address: "127.0.0.1", port: plain.port }] }),
    ]
      .map((o) => stringify(o))
      .join("---\n"),
  );
  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [config], t });
  const boot = await runCliProcess(["bootstrap", "--node", "tls-both-1"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-tls-both-ways", t });

  const get = (options: { sni: string; path?: string; cert?: Pem; maxVersion?: "TLSv1.2" }): Promise<Answer> =>
    new Promise((resolve) => {
      const req = request(
        `https://127.0.0.1:${port}${options.path ?? "/"}`,
        {
          // ALPN is a tls.connect option, passed through by https.request.
          ...({ ALPNProtocols: ["h2", "http/1.1"] } as object),
          ca,
          servername: options.sni,
          headers: { host: options.sni },
          agent: false,
          timeout: 2000,
          ...(options.cert === undefined ? {} : { cert: options.cert.cert, key: options.cert.key }),
          ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
        },
        (res) => {
          const socket = res.socket as TLSSocket;
          const servedCn = String(socket.getPeerCertificate().subject?.CN);
          const alpn = socket.alpnProtocol;
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString("utf8")));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, servedCn, alpn }));
          res.on("error", (e) => resolve({ status: 0, body, servedCn, alpn, error: e.message }));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => resolve({ status: 0, body: "", servedCn: "", alpn: false, error: e.message }));
      req.end();
    });

  // SNI api.example.com: the api certificate (a Secret over SDS) and the api backend, reached over
  // TLS verified against the right CA with the right SAN, Envoy presenting its client certificate.
  const viaApi = await waitUntil(
    async () => {
      const a = await get({ sni: "api.example.com" });
      return a.status === 200 && a;
    },
    { timeoutMs: 20_000, description: "Envoy serves api.example.com" },
  );
  assert.equal(viaApi.servedCn, "api.example.com");
  assert.equal(viaApi.body, "api backend\n");
  assert.equal(viaApi.alpn, "http/1.1", "the listener offers only the ALPN protocols it lists");
  assert.deepEqual(seen.at(-1), { sni: "backend.internal", clientCn: "envoy-client" }, "Envoy sent the Service's SNI and its client certificate");

  const viaWww = await get({ sni: "www.example.com" });
  assert.equal(viaWww.status, 200, JSON.stringify(viaWww));
  assert.equal(viaWww.servedCn, "www.example.com", "SNI www.example.com gets the www certificate");
  assert.equal(viaWww.body, "www backend\n", "and the www backend");

  // Any other name: the default certificate. Upstream verification refuses the backend.
  const before = seen.length;
  const wrongCa = await get({ sni: "localhost", path: "/wrong-ca" });
  assert.equal(wrongCa.servedCn, "localhost", "an SNI no entry names gets the default certificate");
  assert.equal(wrongCa.status, 503, `a backend whose certificate the CA does not verify is a 503: ${JSON.stringify(wrongCa)}`);
  const wrongSan = await get({ sni: "localhost", path: "/wrong-san" });
  assert.equal(wrongSan.status, 503, `a backend certificate without the required SAN is a 503: ${JSON.stringify(wrongSan)}`);
  assert.equal(seen.length, before, "no request reached the backend over an unverified connection");
  const stats = await envoy.stats("^cluster\\.(api|wrong-ca|wrong-san)\\.ssl\\.(handshake|fail_verify_error|fail_verify_san)$");
  t.diagnostic(JSON.stringify(Object.fromEntries(stats)));
  assert.ok((stats.get("cluster.wrong-ca.ssl.fail_verify_error") ?? 0) >= 1, "Envoy counts the failed chain verification");
  assert.ok((stats.get("cluster.wrong-san.ssl.fail_verify_san") ?? 0) >= 1, "Envoy counts the SAN mismatch");

  // Client certificates are optional, but one that is presented must verify.
  const withCert = await get({ sni: "www.example.com", cert: client });
  assert.equal(withCert.status, 200, `a client certificate from the CA is accepted: ${JSON.stringify(withCert)}`);
  const stranger = await get({ sni: "www.example.com", cert: strangerClient });
  assert.equal(stranger.status, 0, `a client certificate from another CA is refused: ${JSON.stringify(stranger)}`);
  // minVersion TLSv1_3: a client that stops at TLS 1.2 cannot connect.
  const old = await get({ sni: "www.example.com", maxVersion: "TLSv1.2" });
  assert.equal(old.status, 0, `a TLS 1.2 client is refused: ${JSON.stringify(old)}`);
});
