// Issue 10, "failover without churn": two control-plane replicas (separate data
// dirs) run on the same --config directory, so they compile the same
// content-hash versions. A real Envoy bootstrapped with both addresses
// (`tcp bootstrap --xds-address A --xds-address B`) serves a request loop to a
// local upstream; the replica its stream uses is killed with SIGKILL. No
// request fails, Envoy reconnects to the other replica and is SYNCED there,
// and the new replica has nothing to send: over Delta it sends no resource at
// all (its `tcp_xds_resources_sent_total`, which counts the resources carried
// by every response written, stays 0), over State of the World the versions
// Envoy holds (config_dump, EDS version_text) stay what they were.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { PrometheusScrape } from "../harness/prometheus-text.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { type ControlPlaneProcess, runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { envoyHeldVersions } from "./support/envoy-held-versions.ts";
import { webModelYaml } from "./support/web-model.ts";

interface NodeStatus {
  nodeId: string;
  connected: boolean;
  state: string;
  types: { type: string; state: string; currentVersion?: string; ackedVersion?: string }[];
}

const statusOf = async (cp: ControlPlaneProcess, nodeId: string): Promise<NodeStatus | undefined> =>
  ((await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as { nodes: NodeStatus[] }).nodes.find((n) => n.nodeId === nodeId);

const resourcesSent = async (cp: ControlPlaneProcess): Promise<number> => new PrometheusScrape(await (await fetch(`${cp.adminUrl}/metrics`)).text()).get("tcp_xds_resources_sent_total");

for (const mode of ["delta", "sotw"] as const) {
  test(`failover (${mode}): kill -9 the replica Envoy uses; no request fails, Envoy is SYNCED on the other, which sends nothing new`, { timeout: 120_000 }, (t) => failover(t, mode));
}

async function failover(t: TestContext, mode: "delta" | "sotw"): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `cp-e2e-failover-${mode}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "web", t });
  const listenerPort = await freePort();
  const configDir = join(dir, "config");
  mkdirSync(configDir);
  writeFileSync(join(configDir, "web.yaml"), webModelYaml({ listenerPort, upstreamPort: upstream.port }));
  const replicas = await Promise.all(["a", "b"].map((r) => startControlPlane({ dataDir: join(dir, `data-${r}`), config: [configDir], t })));
  const [a, b] = replicas as [ControlPlaneProcess, ControlPlaneProcess];

  const nodeId = `failover-${mode}`;
  const boot = await runCliProcess(
    ["bootstrap", "--node", nodeId, ...(mode === "delta" ? ["--delta"] : []), "--xds-address", `127.0.0.1:${a.xdsPort}`, "--xds-address", `127.0.0.1:${b.xdsPort}`],
    { server: a.adminUrl },
  );
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: `cp-failover-${mode}`, t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by web\n", { timeoutMs: 15_000, description: "Envoy routes to the upstream" });

  // The replica the stream is on is the one that reports the node connected and SYNCED.
  const connected = await waitUntil(
    async () => {
      for (const cp of replicas) if ((await statusOf(cp, nodeId))?.state === "SYNCED") return cp;
      return undefined;
    },
    { timeoutMs: 15_000, description: `${nodeId} SYNCED on a replica` },
  );
  const other = connected === a ? b : a;
  const before = await statusOf(connected, nodeId);
  assert.equal(await statusOf(other, nodeId), undefined, "the other replica has not seen this Envoy yet");
  const sentByOtherBefore = await resourcesSent(other);
  const held = await envoyHeldVersions(envoy);
  t.diagnostic(`connected to replica ${connected === a ? "a" : "b"} (xds port ${connected.xdsPort}); Envoy holds ${JSON.stringify(held)}`);

  const loop = startRequestLoop({ url, maxRequests: 5000, maxDurationMs: 60_000 });
  await waitUntil(() => loop.records.length >= 10, { timeoutMs: 10_000, description: "requests flowing before the kill" });
  const killedAt = Date.now();
  await connected.stop({ signal: "SIGKILL" });

  const after = await waitUntil(
    async () => {
      const s = await statusOf(other, nodeId);
      return s?.connected === true && s.state === "SYNCED" && s;
    },
    { timeoutMs: 30_000, intervalMs: 20, description: `${nodeId} SYNCED on the other replica`, onTimeout: async () => JSON.stringify(await statusOf(other, nodeId)) },
  );
  const reconnectMs = Date.now() - killedAt;
  t.diagnostic(`reconnected and SYNCED on the other replica ${reconnectMs} ms after the kill (status polled every 20 ms)`);
  // A few more requests after the switch, then the whole loop must be clean.
  const seen = loop.records.length;
  await waitUntil(() => loop.records.length >= seen + 10, { timeoutMs: 10_000, description: "requests after the switch" });
  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `of ${records.length} requests, none failed`);
  assert.ok(records.every((r) => r.body === "served by web\n"));
  t.diagnostic(`${records.length} requests, 0 failed`);

  // Same content, same versions: the other replica's current version of every type is what Envoy ACKed on the killed one.
  const acked = Object.fromEntries((before?.types ?? []).map((x) => [x.type, x.ackedVersion]));
  assert.deepEqual(Object.fromEntries(after.types.map((x) => [x.type, x.currentVersion])), acked, "the same version of every type on both replicas");
  const sentByOther = (await resourcesSent(other)) - sentByOtherBefore;
  t.diagnostic(`resources the new replica sent: ${sentByOther}`);
  if (mode === "delta") assert.equal(sentByOther, 0, "over Delta Envoy said which versions it has; the new replica sent no resource");
  assert.deepEqual(await envoyHeldVersions(envoy), held, "Envoy holds the same versions of every resource");
}
