// Scenario 2 through the runnable control plane: the operator points
// example_proxy_cluster from service1 to service2 through the admin API, the
// CLI and a watched YAML file, then rolls back, while a steady request loop
// through a real Envoy sees zero failed requests; with both endpoints, round
// robin alternates. The Envoy boots from the bootstrap the CLI prints.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { dynamicEndpoints, endpointAddresses } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop, type LoopRecord, type RequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml, serviceYaml } from "./scenario-files.ts";

/** The loop's next answer from `name`, bounded (the loop has its own bound too). */
function nextFrom(loop: RequestLoop, name: string, timeoutMs = 15_000): Promise<LoopRecord> {
  return Promise.race([
    loop.next((r) => r.body === `served by ${name}\n`),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer from ${name} within ${timeoutMs} ms`)), timeoutMs).unref()),
  ]);
}

test("scenario 2: switch service1 -> service2 via admin API, CLI and a watched file, roll back, zero failed requests", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-s2-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const listenerPort = await freePort();
  const confDir = join(dir, "conf");
  const file = join(confDir, "scenario-2.yaml");
  mkdirSync(confDir);
  writeFileSync(file, scenario2Yaml({ listenerPort, upstreamPort: service1.port }));

  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [confDir], t });
  const server = cp.adminUrl;

  // The Envoy boots from what `bootstrap --node` prints.
  const boot = await runCliProcess(["bootstrap", "--node", "edge-1", "--cluster", "edge"], { server });
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: "cp-scenario2", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });

  const loop = startRequestLoop({ url, maxRequests: 20_000, maxDurationMs: 100_000, intervalMs: 10 });
  t.after(() => loop.stop());
  await nextFrom(loop, "service1");

  // config_dump carries no version for EDS; the subscription's version_text readout does.
  const edsVersionStat = "cluster.example_proxy_cluster.version_text";
  const edsVersion = async () => (await envoy.textStats(`^cluster\\.example_proxy_cluster\\.version_text$`)).get(edsVersionStat);
  const versionBefore = await edsVersion();
  const timings: string[] = [];
  let t0 = Date.now();
  const took = (what: string) => {
    timings.push(`${what} ${Date.now() - t0} ms`);
  };

  // 1. Admin API: PUT the Service with service2's endpoint, optimistic concurrency included.
  const current = (await (await fetch(`${server}/api/v1/objects/Service/example_proxy_cluster`)).json()) as { revision: number };
  t0 = Date.now();
  const put = await fetch(`${server}/api/v1/objects/Service/example_proxy_cluster?expectedRevision=${current.revision}`, {
    method: "PUT",
    headers: { "content-type": "application/yaml" },
    body: serviceYaml(service2.port),
  });
  assert.equal(put.status, 200, await put.clone().text());
  await nextFrom(loop, "service2");
  took("admin API PUT -> first answer from service2:");
  const eds = await envoy.waitFor(
    (d) => dynamicEndpoints(d).find((e) => endpointAddresses(e.config).includes(`127.0.0.1:${service2.port}`)),
    { timeoutMs: 10_000, includeEds: true, description: "config_dump shows service2's endpoint" },
  );
  assert.deepEqual(endpointAddresses(eds.config), [`127.0.0.1:${service2.port}`]);
  const versionAfter = await waitUntil(async () => {
    const v = await edsVersion();
    return v !== versionBefore && v;
  }, { timeoutMs: 5000, description: "a new EDS version in Envoy's stats" });
  assert.ok(versionBefore !== undefined && versionBefore !== "", "the first EDS version is known");
  const status0 = (await (await fetch(`${server}/api/v1/status`)).json()) as { nodes: { nodeId: string; types: { type: string; currentVersion?: string }[] }[] };
  assert.equal(status0.nodes.find((n) => n.nodeId === "edge-1")?.types.find((x) => x.type === "EDS")?.currentVersion, versionAfter);

  // 2. CLI (its own process): apply a file pointing back at service1.
  const cliFile = join(dir, "service1.yaml");
  writeFileSync(cliFile, serviceYaml(service1.port));
  t0 = Date.now();
  const applied = await runCliProcess(["apply", "-f", cliFile], { server });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /applied: revision \d+/);
  await nextFrom(loop, "service1");
  took("CLI apply (process start included) -> first answer from service1:");

  // 3. The watched file, saved the way editors do (write a temp file, rename over).
  writeFileSync(join(confDir, ".scenario-2.yaml.swp"), scenario2Yaml({ listenerPort, upstreamPort: service2.port }));
  t0 = Date.now();
  renameSync(join(confDir, ".scenario-2.yaml.swp"), file);
  await nextFrom(loop, "service2");
  took("file rename-save -> first answer from service2:");
  await cp.waitForLog(/accepted change from .*scenario-2\.yaml: revision/, { timeoutMs: 5000 });

  // 4. Rollback to the first revision brings service1 back.
  t0 = Date.now();
  const rollback = await fetch(`${server}/api/v1/rollback`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ to: 1 }) });
  assert.equal(rollback.status, 200, await rollback.clone().text());
  await nextFrom(loop, "service1");
  took("rollback -> first answer from service1:");

  // 5. Two endpoints with round robin: consecutive answers alternate.
  const both = await fetch(`${server}/api/v1/objects/Service/example_proxy_cluster`, {
    method: "PUT",
    headers: { "content-type": "application/yaml" },
    body: `${serviceYaml(service1.port)}\n    - address: 127.0.0.1\n      port: ${service2.port}\n`,
  });
  assert.equal(both.status, 200, await both.clone().text());
  await nextFrom(loop, "service2");
  const from = loop.records.length;
  await waitUntil(() => loop.records.length >= from + 6, { timeoutMs: 10_000, description: "six more answers" });
  const six = loop.records.slice(from, from + 6).map((r) => r.body.trim());
  for (let i = 1; i < six.length; i++) assert.notEqual(six[i], six[i - 1], `round robin alternates: ${six.join(", ")}`);

  // Status: the Envoy acknowledged every type of the current snapshot.
  const status = await waitUntil(
    async () => {
      const s = (await (await fetch(`${server}/api/v1/status`)).json()) as { nodes: { nodeId: string; state: string; types: { type: string; state: string }[] }[] };
      const node = s.nodes.find((n) => n.nodeId === "edge-1");
      return node?.state === "SYNCED" ? node : undefined;
    },
    { timeoutMs: 10_000, description: "status says edge-1 is SYNCED" },
  );
  assert.deepEqual(status.types.map((x) => x.type), ["CDS", "EDS", "LDS", "RDS"]);

  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `failed requests during the switches (of ${records.length})`);
  assert.ok(records.length > 20, `the loop kept running (${records.length} requests)`);
  for (const line of [...timings, `requests in the loop: ${records.length}, failed: 0`]) t.diagnostic(line);
  const history = (await (await fetch(`${server}/api/v1/history`)).json()) as { items: { revision: number; source: string }[] };
  assert.deepEqual(
    history.items.map((h) => h.source.replace(/:.*scenario-2\.yaml$/, ":scenario-2.yaml")),
    ["api", "rollback:1", "file:scenario-2.yaml", "cli", "api", "file:scenario-2.yaml"],
  );
});
