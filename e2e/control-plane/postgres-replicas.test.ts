// Issue 10 items 2 and 7 with a real Envoy and a real PostgreSQL: three replicas
// (`serve --store postgres://...`, each its own process and data dir) on one
// throwaway cluster. An apply on replica A is served by an Envoy connected to
// replica B only (the time it took is printed). Then PostgreSQL is stopped under
// a request loop through Envoy: no request fails, writes answer 503
// store_unavailable, healthz says degraded; PostgreSQL is started again: a write
// on C works and every replica converges on it, and Envoy serves it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { startThrowawayPostgres } from "../../packages/control-plane/src/store/throwaway-postgres.ts";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { type ControlPlaneProcess, runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { webModelYaml, webServiceYaml } from "./support/web-model.ts";

const apply = (cp: ControlPlaneProcess, yaml: string) => fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: yaml });
const revisionOf = async (cp: ControlPlaneProcess): Promise<number> => ((await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as { revision: number }).revision;
const healthOf = async (cp: ControlPlaneProcess): Promise<string> => ((await (await fetch(`${cp.adminUrl}/healthz`)).json()) as { status: string }).status;

test("three replicas on one PostgreSQL: an apply on A reaches an Envoy on B; a database outage fails no request and refuses writes; all converge after", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-pg-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pg = await startThrowawayPostgres();
  t.after(() => pg.destroy());
  const first = await startHttpUpstream({ name: "first", t });
  const second = await startHttpUpstream({ name: "second", t });
  const listenerPort = await freePort();
  const replicas = await Promise.all(["a", "b", "c"].map((r) => startControlPlane({ dataDir: join(dir, `data-${r}`), extraArgs: ["--store", pg.url], t })));
  const [a, b, c] = replicas as [ControlPlaneProcess, ControlPlaneProcess, ControlPlaneProcess];

  const initial = await apply(a, webModelYaml({ listenerPort, upstreamPort: first.port }));
  assert.equal(initial.status, 200, await initial.text());

  // The Envoy knows replica B only.
  const boot = await runCliProcess(["bootstrap", "--node", "pg-edge", "--xds-address", `127.0.0.1:${b.xdsPort}`], { server: b.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-pg-replicas", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by first\n", { timeoutMs: 20_000, description: "Envoy on B routes to the first upstream" });

  // 1. An apply on A, served through B.
  const appliedAt = Date.now();
  const moved = await apply(a, webServiceYaml(second.port));
  assert.equal(moved.status, 200, await moved.text());
  await waitUntil(async () => (await httpGet(url)).body === "served by second\n", { timeoutMs: 20_000, intervalMs: 5, description: "Envoy on B serves A's change" });
  t.diagnostic(`apply on replica A -> served by the Envoy on replica B: ${Date.now() - appliedAt} ms (Envoy polled every 5 ms)`);

  // 2. PostgreSQL stopped under a request loop.
  const loop = startRequestLoop({ url, maxRequests: 20_000, maxDurationMs: 120_000 });
  t.after(() => loop.stop());
  await waitUntil(() => loop.records.length >= 10, { timeoutMs: 10_000, description: "requests flowing before the outage" });
  pg.stop();
  const refused = await apply(a, webServiceYaml(first.port));
  assert.equal(refused.status, 503);
  const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, "store_unavailable", error.message);
  t.diagnostic(`write during the outage: 503 ${error.code}: ${error.message}`);
  for (const cp of replicas) await waitUntil(async () => (await healthOf(cp)) === "degraded", { timeoutMs: 20_000, description: "healthz degraded" });
  const status = await runCliProcess(["status"], { server: b.adminUrl });
  assert.match(status.stdout, /store postgres:\/\/.* is unavailable/, status.stdout);
  const during = loop.records.length;
  await waitUntil(() => loop.records.length >= during + 20, { timeoutMs: 10_000, description: "requests during the outage" });

  // 3. PostgreSQL back: a write on C, every replica converges, Envoy on B serves it.
  pg.start();
  for (const cp of replicas) await waitUntil(async () => (await healthOf(cp)) === "ok", { timeoutMs: 30_000, description: "healthz ok after the outage" });
  const back = await apply(c, webServiceYaml(first.port));
  const backBody = await back.text();
  assert.equal(back.status, 200, backBody);
  const latest = (JSON.parse(backBody) as { revision: number }).revision;
  for (const cp of replicas) await waitUntil(async () => (await revisionOf(cp)) === latest, { timeoutMs: 20_000, description: `revision ${latest} everywhere` });
  await waitUntil(async () => (await httpGet(url)).body === "served by first\n", { timeoutMs: 20_000, description: "Envoy on B serves C's change" });
  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `of ${records.length} requests, none failed`);
  t.diagnostic(`${records.length} requests through the outage, 0 failed`);
  void envoy;
});
