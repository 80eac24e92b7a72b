// Scenario 6 through the runnable control plane: changes Envoy would reject are
// refused at the admin API, the CLI and a watched file with the reason, and the
// fleet keeps its last good configuration (config_dump untouched, zero failed
// requests). A change only Envoy can reject (a port already bound) is NACKed:
// status names the node, the type and Envoy's message, and nothing loops.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ConfigDump, Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml } from "./scenario-files.ts";

const versions = (d: ConfigDump) => ({
  clusters: dynamicClusters(d).map((c) => [c.name, c.versionInfo]),
  listeners: dynamicListeners(d).map((l) => [l.name, l.versionInfo]),
  routes: dynamicRoutes(d).map((r) => [r.name, r.versionInfo]),
});

const badRoute = (regex: string) => `apiVersion: tcp.dev/v1alpha1
kind: Route
metadata:
  name: route_0
spec:
  listeners: [listener_0]
  routes:
    - match:
        regex: "${regex}"
      backends:
        - service: example_proxy_cluster
`;

type Status = { nodes: { nodeId: string; state: string; types: { type: string; state: string; nacks: number; nack?: { message: string } }[] }[] };

test("scenario 6: refused changes keep the fleet on its last good configuration; an Envoy NACK shows in status", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-s6-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const listenerPort = await freePort();
  const confDir = join(dir, "conf");
  mkdirSync(confDir);
  writeFileSync(join(confDir, "scenario-2.yaml"), scenario2Yaml({ listenerPort, upstreamPort: service1.port }));
  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [confDir], t });
  const server = cp.adminUrl;
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-scenario6", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });
  const loop = startRequestLoop({ url, maxRequests: 20_000, maxDurationMs: 100_000, intervalMs: 10 });
  t.after(() => loop.stop());
  const before = versions(await envoy.configDump());
  const revision = async () => ((await (await fetch(`${server}/healthz`)).json()) as { revision: number }).revision;
  const rev0 = await revision();

  // Admin API: a regex Envoy's RE2 would reject.
  const api = await fetch(`${server}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: badRoute("(?=lookahead)") });
  assert.equal(api.status, 422);
  const body = (await api.json()) as { error: { code: string; message: string; diagnostics: { object: string; path: string; message: string; hint: string }[] } };
  assert.equal(body.error.code, "refused");
  assert.match(body.error.message, /Route\/route_0 would be invalid/);
  const d = body.error.diagnostics.find((x) => x.path === "spec.routes[0].match.regex");
  assert.ok(d, JSON.stringify(body.error.diagnostics));
  assert.match(d.message, /not valid RE2/);
  assert.ok(d.hint.length > 0);
  await cp.waitForLog(/refused change from api: Route\/route_0 spec\.routes\[0\]\.match\.regex/, { timeoutMs: 5000 });

  // CLI: the same refusal, printed as file:line:col path message hint, exit code 1.
  const cliFile = join(dir, "bad-route.yaml");
  writeFileSync(cliFile, badRoute("a(b"));
  const cli = await runCliProcess(["apply", "-f", cliFile], { server });
  assert.equal(cli.code, 1, cli.stdout);
  assert.match(cli.stderr, new RegExp(`${cliFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:9:16: error: Route/route_0 spec\\.routes\\[0\\]\\.match\\.regex: .*hint: `));

  // Deleting what a route still uses would break it: refused too.
  const del = await fetch(`${server}/api/v1/objects/Service/example_proxy_cluster`, { method: "DELETE", headers: { "content-type": "application/json" } });
  assert.equal(del.status, 422, await del.clone().text());

  // A watched file broken by the operator: refused, its previous objects stay live.
  writeFileSync(join(confDir, "scenario-2.yaml"), scenario2Yaml({ listenerPort, upstreamPort: 70000 }));
  const logged = await cp.waitForLog(/scenario-2\.yaml:\d+:\d+: error: Service\/example_proxy_cluster spec\.endpoints\[0\]\.port/, { timeoutMs: 5000 });
  assert.match(logged, /hint: /);

  assert.equal(await revision(), rev0, "no refused change created a revision");
  assert.deepEqual(versions(await envoy.configDump()), before, "Envoy's config_dump is untouched");

  // A listener on a port another process holds passes every check we can make; Envoy NACKs it.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const heldPort = (holder.address() as { port: number }).port;
  const tcp = `apiVersion: tcp.dev/v1alpha1\nkind: Listener\nmetadata:\n  name: tcp_busy\nspec:\n  protocol: TCP\n  address: 127.0.0.1\n  port: ${heldPort}\n  service: example_proxy_cluster\n`;
  const accepted = await fetch(`${server}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: tcp });
  assert.equal(accepted.status, 200, await accepted.clone().text());
  const nacked = await waitUntil(
    async () => {
      const s = (await (await fetch(`${server}/api/v1/status`)).json()) as Status;
      return s.nodes.find((n) => n.nodeId === "edge-1" && n.state === "NACKED");
    },
    { timeoutMs: 10_000, description: "status shows edge-1 NACKED" },
  );
  const lds = nacked.types.find((x) => x.type === "LDS");
  assert.equal(lds?.state, "NACKED");
  assert.match(lds?.nack?.message ?? "", /tcp_busy/);
  await cp.waitForLog(/NACK from edge-1 for Listener.*tcp_busy/, { timeoutMs: 5000 });
  // Nothing loops: the NACK count stays put while nothing changes.
  const nacks = lds?.nacks ?? 0;
  await new Promise((r) => setTimeout(r, 1500));
  const later = (await (await fetch(`${server}/api/v1/status`)).json()) as Status;
  assert.equal(later.nodes.find((n) => n.nodeId === "edge-1")?.types.find((x) => x.type === "LDS")?.nacks, nacks);

  // Removing the listener makes the node SYNCED again.
  assert.equal((await fetch(`${server}/api/v1/objects/Listener/tcp_busy`, { method: "DELETE", headers: { "content-type": "application/json" } })).status, 200);
  await waitUntil(
    async () => ((await (await fetch(`${server}/api/v1/status`)).json()) as Status).nodes.find((n) => n.nodeId === "edge-1")?.state === "SYNCED",
    { timeoutMs: 10_000, description: "edge-1 SYNCED after the fix" },
  );

  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `failed requests (of ${records.length})`);
  assert.ok(records.every((r) => r.body === "served by service1\n"));
});
