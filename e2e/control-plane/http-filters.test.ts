// HTTP filters through the runnable control plane and a real Envoy (issue 8): the filter
// list of a listener and the per-route overrides, each shown by what a client sees.
// localRateLimit answers 429 once a listener's bucket or a route's own bucket is empty,
// and a route can turn it off; the CORS filter answers a preflight for an allowed origin;
// RBAC answers 403 by source address, by header and by JWT claim; fault injection aborts
// or delays a route's requests; ext_authz asks a small HTTP service; JWT answers
// 401/200/403 on the routes that require it (keys inline or fetched); gzip and brotli
// compress; a raw filter (Envoy's own header_mutation config) runs too.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { listenLocal } from "../harness/listen-local.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "test", alg: "RS256", use: "sig" }] });
// A second identity provider whose keys Envoy fetches from a JWKS endpoint (remoteJwks).
const remoteKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const remoteJwks = JSON.stringify({ keys: [{ ...remoteKeys.publicKey.export({ format: "jwk" }), kid: "test", alg: "RS256", use: "sig" }] });

/** An RS256 JWT signed here, as an identity provider would. */
function jwt(claims: Record<string, unknown>, key: KeyObject = privateKey): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${b64({ alg: "RS256", typ: "JWT", kid: "test" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

function config(edgePort: number, tightPort: number, upstreamPort: number, authzPort: number, jwksPort: number): string {
  return `apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata: { name: edge }
spec:
  protocol: HTTP
  address: 127.0.0.1
  port: ${edgePort}
  httpFilters:
    - { name: local-only, type: rbac, action: Allow, sourceCidrs: [127.0.0.0/8] }
    - name: no-blocked
      type: rbac
      action: Deny
      headers: [{ name: x-blocked, present: true }]
    - { name: limit, type: localRateLimit, tokens: 1000, fillInterval: 1s }
    - name: cors
      type: cors
      allowOrigins: [https://app.example.com]
      allowMethods: [GET, PUT]
      allowHeaders: [content-type]
      maxAge: 10m
    - { name: chaos, type: fault, abort: { status: 418, percent: 0 } }
    - { name: gzip, type: compression, minContentLength: 0 }
    - { name: brotli, type: compression, algorithm: brotli, minContentLength: 0 }
    - name: auth
      type: jwt
      providers:
        - { name: test-idp, issuer: https://idp.test, audiences: [edge-api], jwks: '${jwks}' }
        - { name: remote-idp, issuer: https://remote.test, remoteJwks: { service: jwks, path: /keys.json, cacheDuration: 5m } }
    - name: no-mallory
      type: rbac
      action: Deny
      jwtClaims: [{ provider: test-idp, claim: sub, exact: mallory }]
    - { name: authz, type: extAuthz, service: authz, pathPrefix: /check, timeout: 1s }
    - name: stamp
      type: raw
      typedConfig:
        "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
        mutations:
          response_mutations:
            - append: { header: { key: x-stamp, value: raw-filter } }
---
apiVersion: tcp.dev/v1alpha1
kind: Route
metadata: { name: edge-routes }
spec:
  listeners: [edge]
  routes:
    - match: { prefix: /limited }
      backends: [{ service: app }]
      filters:
        limit: { type: localRateLimit, tokens: 2, fillInterval: 1h }
    - match: { prefix: /private }
      backends: [{ service: app }]
      filters:
        local-only: { type: rbac, action: Allow, sourceCidrs: [10.0.0.0/8] }
    - match: { prefix: /secure }
      backends: [{ service: app }]
      filters:
        auth: { type: jwt, require: test-idp }
    - match: { prefix: /remote }
      backends: [{ service: app }]
      filters:
        auth: { type: jwt, require: remote-idp }
    - match: { prefix: /slow }
      backends: [{ service: app }]
      filters:
        chaos: { type: fault, delay: { duration: 300ms, percent: 100 } }
    - match: { prefix: /chaos }
      backends: [{ service: app }]
      filters:
        chaos: { type: fault, abort: { status: 418, percent: 100 } }
    - match: { prefix: / }
      backends: [{ service: app }]
---
apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata: { name: tight }
spec:
  protocol: HTTP
  address: 127.0.0.1
  port: ${tightPort}
  httpFilters:
    - { name: limit, type: localRateLimit, tokens: 2, fillInterval: 1h }
---
apiVersion: tcp.dev/v1alpha1
kind: Route
metadata: { name: tight-routes }
spec:
  listeners: [tight]
  routes:
    - match: { prefix: /free }
      backends: [{ service: app }]
      filters:
        limit: { disabled: true }
    - match: { prefix: / }
      backends: [{ service: app }]
---
apiVersion: tcp.dev/v1alpha1
kind: Service
metadata: { name: app }
spec:
  discovery: Static
  connectTimeout: 1s
  endpoints:
    - { address: 127.0.0.1, port: ${upstreamPort} }
---
apiVersion: tcp.dev/v1alpha1
kind: Service
metadata: { name: authz }
spec:
  discovery: Static
  connectTimeout: 1s
  endpoints:
    - { address: 127.0.0.1, port: ${authzPort} }
---
apiVersion: tcp.dev/v1alpha1
kind: Service
metadata: { name: jwks }
spec:
  discovery: Static
  connectTimeout: 1s
  endpoints:
    - { address: 127.0.0.1, port: ${jwksPort} }
`;
}

test("HTTP filters: 429, CORS preflight, RBAC 403, fault abort and delay, JWT 401/200/403 (local and remote keys), ext_authz, gzip/brotli and a raw filter through a real Envoy", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-filters-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = await startHttpUpstream({ name: "app", t });
  // The authorization service: /guarded needs "Authorization: Bearer let-me-in", everything else is allowed.
  const checks: string[] = [];
  const authzServer = createServer((req, res) => {
    checks.push(req.url ?? "");
    const guarded = (req.url ?? "").startsWith("/check/guarded");
    const allowed = !guarded || req.headers.authorization === "Bearer let-me-in";
    res.writeHead(allowed ? 200 : 403, { "content-type": "text/plain" });
    res.end(allowed ? "" : "denied by authz\n");
  });
  const authz = await listenLocal(authzServer, { what: "authz service", t });
  const jwksFetches: string[] = [];
  const jwksServer = createServer((req, res) => {
    jwksFetches.push(req.url ?? "");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(remoteJwks);
  });
  const jwksService = await listenLocal(jwksServer, { what: "JWKS endpoint", t });
  const [edgePort, tightPort] = [await freePort(), await freePort()];
  const file = join(dir, "filters.yaml");
  writeFileSync(file, config(edgePort, tightPort, app.port, authz.port, jwksService.port));
  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [file], t });
  const boot = await runCliProcess(["bootstrap", "--node", "edge-1", "--cluster", "edge"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-http-filters", t });
  const edge = `http://127.0.0.1:${edgePort}`;
  const tight = `http://127.0.0.1:${tightPort}`;
  const get = (url: string, headers: Record<string, string> = {}, method = "GET") => httpGet(url, { headers, method });
  await waitUntil(async () => (await get(`${edge}/`)).status === 200, { timeoutMs: 15_000, description: "Envoy serves the edge listener" });
  // /free skips the tight listener's limit, so waiting on it spends none of its tokens.
  await waitUntil(async () => (await get(`${tight}/free`)).status === 200, { timeoutMs: 15_000, description: "Envoy serves the tight listener" });

  // Every filter ran on a plain request; the raw filter stamped the response.
  const plain = await get(`${edge}/`);
  assert.equal(plain.body, "served by app\n");
  assert.equal(plain.headers["x-stamp"], "raw-filter");

  // localRateLimit, per route: /limited has its own bucket of 2.
  const limited = [];
  for (let i = 0; i < 3; i++) limited.push((await get(`${edge}/limited`)).status);
  assert.deepEqual(limited, [200, 200, 429]);
  assert.equal((await get(`${edge}/`)).status, 200, "the listener's bucket is not the route's");

  // localRateLimit, on the listener: tight allows 2 requests an hour, except on /free where it is disabled.
  const tightStatuses = [];
  for (let i = 0; i < 3; i++) tightStatuses.push((await get(`${tight}/`)).status);
  assert.deepEqual(tightStatuses, [200, 200, 429]);
  assert.equal((await get(`${tight}/free`)).status, 200);

  // CORS: a preflight from the allowed origin is answered by Envoy; another origin gets no allow header.
  const preflight = await get(`${edge}/`, { origin: "https://app.example.com", "access-control-request-method": "PUT" }, "OPTIONS");
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers["access-control-allow-origin"], "https://app.example.com");
  assert.equal(preflight.headers["access-control-allow-methods"], "GET,PUT");
  assert.equal(preflight.headers["access-control-max-age"], "600");
  const simple = await get(`${edge}/`, { origin: "https://app.example.com" });
  assert.equal(simple.headers["access-control-allow-origin"], "https://app.example.com");
  const other = await get(`${edge}/`, { origin: "https://evil.example.com" });
  assert.equal(other.headers["access-control-allow-origin"], undefined);

  // RBAC: /private allows only 10.0.0.0/8, and this client is 127.0.0.1; a denied header is refused everywhere.
  const priv = await get(`${edge}/private`);
  assert.equal(priv.status, 403);
  assert.equal(priv.body, "RBAC: access denied");
  assert.equal((await get(`${edge}/`, { "x-blocked": "1" })).status, 403);

  // Fault injection: the listener aborts 0%, /chaos overrides it to 100% with 418.
  assert.equal((await get(`${edge}/chaos`)).status, 418);
  // ... and /slow to a 300 ms delay before the request goes on.
  const t0 = Date.now();
  const slow = await get(`${edge}/slow`);
  assert.equal(slow.status, 200);
  assert.ok(Date.now() - t0 >= 290, `the delayed request took ${Date.now() - t0} ms`);
  assert.equal((await get(`${edge}/`)).status, 200);

  // JWT: /secure requires a token of test-idp; other paths do not.
  const secure = (token?: string) => get(`${edge}/secure`, token === undefined ? {} : { authorization: `Bearer ${token}` });
  assert.equal((await secure()).status, 401, "no token");
  assert.equal((await secure(jwt({ iss: "https://idp.test", aud: "edge-api", sub: "alice" }))).status, 200, "a valid token");
  assert.equal((await secure(jwt({ iss: "https://idp.test", aud: "other-api", sub: "alice" }))).status, 403, "a valid token for another audience");
  const mallory = await secure(jwt({ iss: "https://idp.test", aud: "edge-api", sub: "mallory" }));
  assert.equal(mallory.status, 403, "a valid token whose sub an rbac jwtClaims principal denies");
  assert.equal(mallory.body, "RBAC: access denied");
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  assert.equal((await secure(jwt({ iss: "https://idp.test", aud: "edge-api" }, stranger))).status, 401, "a token signed by another key");
  assert.equal((await get(`${edge}/`)).status, 200, "no token needed elsewhere");
  // remoteJwks: /remote requires remote-idp, whose keys Envoy fetched from the JWKS Service.
  const remote = (token?: string) => get(`${edge}/remote`, token === undefined ? {} : { authorization: `Bearer ${token}` });
  assert.equal((await remote()).status, 401);
  assert.equal((await remote(jwt({ iss: "https://remote.test", sub: "bob" }, remoteKeys.privateKey))).status, 200);
  assert.equal((await remote(jwt({ iss: "https://remote.test", sub: "bob" }))).status, 401, "signed by the local provider's key, not the remote one");
  assert.ok(jwksFetches.includes("/keys.json"), `Envoy fetched the JWKS: ${jwksFetches.join(", ")}`);

  // ext_authz over HTTP: the service sees each request behind /check and decides.
  const guarded = await get(`${edge}/guarded`);
  assert.equal(guarded.status, 403);
  assert.equal(guarded.body, "denied by authz\n");
  assert.equal((await get(`${edge}/guarded`, { authorization: "Bearer let-me-in" })).status, 200);
  assert.ok(checks.includes("/check/guarded"), `the authz service saw the check: ${checks.join(", ")}`);
  assert.equal(app.requests.filter((r) => r.path === "/guarded").length, 1, "only the allowed request reached the upstream");

  // Compression: gzip or brotli, as the client accepts; identity otherwise.
  assert.equal((await get(`${edge}/`, { "accept-encoding": "gzip" })).headers["content-encoding"], "gzip");
  assert.equal((await get(`${edge}/`, { "accept-encoding": "br" })).headers["content-encoding"], "br");
  assert.equal((await get(`${edge}/`)).headers["content-encoding"], undefined);

  // The upstream never saw the requests Envoy answered itself (429, 403, 418, preflight).
  assert.equal(app.requests.filter((r) => r.path === "/private" || r.path === "/chaos").length, 0);
  assert.equal(app.requests.filter((r) => r.method === "OPTIONS").length, 0);
});
