// `tcp status --check` against a real Envoy, as a script uses it: exit 0 once the
// Envoy acknowledged everything, 1 while it rejects a listener it cannot bind
// (with Envoy's reason), 0 again after the fix; a stopped Envoy is listed with
// CONNECTED no, STALE (never SYNCED) and when it was last seen, and not counted.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { type CliResult, runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml } from "./scenario-files.ts";

test("tcp status --check: 0 when SYNCED, 1 while a connected Envoy NACKs, a stopped Envoy is STALE and not counted", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-check-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const listenerPort = await freePort();
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const server = cp.adminUrl;
  const scenario = scenario2Yaml({ listenerPort, upstreamPort: service1.port });
  assert.equal((await runCliProcess(["apply", "-f", "-"], { server, input: scenario })).code, 0);
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-status-check", t });
  const check = () => runCliProcess(["status", "--check"], { server });
  const until = (what: string, ok: (r: CliResult) => boolean) =>
    waitUntil(async () => {
      const r = await check();
      return ok(r) ? r : undefined;
    }, { timeoutMs: 20_000, description: what });

  const synced = await until("status --check exits 0", (r) => r.code === 0 && /edge-1 .* yes +SYNCED/.test(r.stdout));
  assert.match(synced.stdout, /check: ok, all 1 connected Envoys are SYNCED/);

  // A listener on a port another process holds: Envoy NACKs it.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const heldPort = (holder.address() as { port: number }).port;
  const busy = `apiVersion: tcp.dev/v1alpha1\nkind: Listener\nmetadata:\n  name: tcp_busy\nspec:\n  protocol: TCP\n  address: 127.0.0.1\n  port: ${heldPort}\n  service: example_proxy_cluster\n`;
  assert.equal((await runCliProcess(["apply", "-f", "-"], { server, input: busy })).code, 0);
  const nacked = await until("status --check exits 1", (r) => r.code === 1);
  assert.match(nacked.stdout, /edge-1 +default +yes +NACKED +now +.*LDS:NACKED/);
  assert.match(nacked.stderr, /check: edge-1 is NACKED: LDS rejected: .*tcp_busy/);
  assert.match(nacked.stderr, /check failed: 1 of 1 connected Envoys are not SYNCED/);

  // The fix: delete the listener; the check passes again.
  assert.equal((await runCliProcess(["delete", "Listener/tcp_busy"], { server })).code, 0);
  await until("status --check exits 0 after the fix", (r) => r.code === 0);

  // Envoy stops: listed as disconnected, STALE with when it was last seen, not counted.
  await envoy.stop();
  const gone = await until("edge-1 shown disconnected", (r) => /edge-1 +default +no /.test(r.stdout));
  assert.match(gone.stdout, /edge-1 +default +no +STALE +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +CDS:STALE EDS:STALE LDS:STALE RDS:STALE/);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /check: ok, no Envoy is connected/);
});
