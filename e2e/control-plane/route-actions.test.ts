// Route actions and modifiers through the runnable control plane and a real
// Envoy, from examples/control-plane/route-actions.yaml (ports and addresses
// rewritten): redirects with the right Location, direct responses, header
// add/set/remove seen at the upstream and downstream at listener, route table
// and rule level, a regex rewrite seen at the upstream, mirrored requests at a
// shadow, a retry after one 503, a websocket handshake with an echoed frame
// (listener upgrades) and a refused upgrade where a rule turns it off, and an
// ACK for all of it (the query-parameter hash policy included).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { listenLocal } from "../harness/listen-local.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { loopbackListener, writeExampleCopy } from "./support/example-copy.ts";
import { acceptWebSocketEcho, websocketRoundTrip } from "./support/websocket-echo.ts";

interface Seen {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * An upstream that records what it sees and answers with `answer`; it sets
 * x-powered-by so the test can see Envoy remove it, and echoes websockets.
 */
async function upstream(t: TestContext, answer: (seen: readonly Seen[]) => { status: number; body: string }) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => {
      const a = answer(seen);
      res.writeHead(a.status, { "content-type": "text/plain", "x-powered-by": "node" });
      res.end(a.body);
    });
  });
  // Envoy pools upstream connections; closing an idle one under it would be an unrelated 503.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  const closeUpgraded = acceptWebSocketEcho(server);
  t.after(closeUpgraded);
  const { port } = await listenLocal(server, { what: "upstream", t });
  return { port, seen };
}

test("route actions: redirects, direct responses, header changes, regex rewrite, mirror, retry, websocket upgrades through a real Envoy", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-actions-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = await upstream(t, () => ({ status: 200, body: "app\n" }));
  const shadow = await upstream(t, () => ({ status: 200, body: "shadow\n" }));
  // Fails the first /flaky request with a 503, then succeeds: one retry must hide the failure.
  const flaky = await upstream(t, (seen) => (seen.filter((s) => s.path.startsWith("/flaky")).length === 1 ? { status: 503, body: "try again\n" } : { status: 200, body: "flaky ok\n" }));
  const listenerPort = await freePort();
  const config = writeExampleCopy(
    "route-actions.yaml",
    [
      { kind: "Listener", name: "web", path: ["spec", "port"], value: listenerPort },
      loopbackListener("web"),
      { kind: "Service", name: "app", path: ["spec", "endpoints", 0, "port"], value: app.port },
      { kind: "Service", name: "flaky", path: ["spec", "endpoints", 0, "port"], value: flaky.port },
      { kind: "Service", name: "shadow", path: ["spec", "endpoints", 0, "port"], value: shadow.port },
    ],
    dir,
  );
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const applied = await runCliProcess(["apply", "-f", config], { server: cp.adminUrl });
  assert.equal(applied.code, 0, applied.stderr);
  const boot = await runCliProcess(["bootstrap", "--node", "actions-1", "--cluster", "edge"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-route-actions", t });
  const base = `http://127.0.0.1:${listenerPort}`;
  await waitUntil(async () => (await httpGet(`${base}/`).catch(() => undefined))?.status === 200, { timeoutMs: 15_000, description: "Envoy routes / to app" });

  // Envoy acknowledged every type, the query-parameter hash policy included.
  await waitUntil(
    async () => {
      const s = (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as { nodes: { nodeId: string; state: string }[] };
      return s.nodes.find((n) => n.nodeId === "actions-1")?.state === "SYNCED";
    },
    { timeoutMs: 10_000, description: "status says actions-1 is SYNCED" },
  );
  assert.equal((await httpGet(`${base}/sticky?user=ada`)).status, 200);

  // Redirects: the matched prefix replaced, the query kept; scheme, port and strip_query.
  const moved = await httpGet(`${base}/old/page?x=1`);
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, `http://127.0.0.1:${listenerPort}/new/page?x=1`);
  const secure = await httpGet(`${base}/insecure?token=abc`);
  assert.equal(secure.status, 308);
  assert.equal(secure.headers.location, "https://127.0.0.1:8443/insecure");

  // Direct responses: status and body from the route, no upstream involved.
  const before = app.seen.length;
  const health = await httpGet(`${base}/health`);
  assert.deepEqual([health.status, health.body], [200, "ok\n"]);
  const gone = await httpGet(`${base}/gone/item`);
  assert.deepEqual([gone.status, gone.body], [410, "gone\n"]);
  assert.equal(gone.headers["cache-control"], "max-age=60", "rule-level response header on a direct response");
  assert.equal(app.seen.length, before, "direct responses and redirects never reach an upstream");

  // Header changes: listener (x-via, x-frame-options), route table (x-route-table set over
  // the client's, x-debug and x-powered-by removed) and rule (x-rule on both sides).
  const res = await httpGet(`${base}/page`, { headers: { "x-debug": "1", "x-route-table": "spoofed" } });
  assert.deepEqual([res.status, res.body], [200, "app\n"]);
  const got = app.seen.at(-1);
  assert.equal(got?.path, "/page");
  assert.equal(got?.headers["x-via"], "edge");
  assert.equal(got?.headers["x-route-table"], "actions", "set overwrites what the client sent");
  assert.equal(got?.headers["x-rule"], "default");
  assert.equal(got?.headers["x-debug"], undefined, "x-debug removed before the upstream");
  assert.equal(res.headers["x-frame-options"], "DENY");
  assert.equal(res.headers["x-rule"], "default");
  assert.equal(res.headers["x-powered-by"], undefined, "x-powered-by removed before the client");

  // Mirror: the shadow gets a copy of the request (Envoy suffixes the host name with -shadow, before the port).
  const copy = await waitUntil(() => shadow.seen.find((s) => s.path === "/page"), { timeoutMs: 5000, description: "the shadow receives /page" });
  assert.equal(copy.headers.host, `127.0.0.1-shadow:${listenerPort}`);

  // Regex rewrite: /api/v2/items reaches the upstream as /v2/items.
  assert.equal((await httpGet(`${base}/api/v2/items`)).status, 200);
  assert.equal(app.seen.at(-1)?.path, "/v2/items");

  // Retry: the first attempt gets a 503, the retry succeeds, the client sees only the success.
  const retried = await httpGet(`${base}/flaky`);
  assert.deepEqual([retried.status, retried.body], [200, "flaky ok\n"]);
  assert.equal(flaky.seen.filter((s) => s.path === "/flaky").length, 2, "one failed attempt and one retry");

  // Websocket: the listener lets upgrades through; /plain turns them off.
  const ws = await websocketRoundTrip({ port: listenerPort, path: "/ws", message: "hello over envoy" });
  assert.deepEqual(ws, { status: 101, echoed: "hello over envoy" });
  const refused = await websocketRoundTrip({ port: listenerPort, path: "/plain", message: "nope" });
  assert.equal(refused.status, 403, "a rule with upgrades: { websocket: false } refuses the upgrade");
});
