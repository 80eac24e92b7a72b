// Issue 10 item 3 on the shared store, and item 4's fleet view: two replicas
// (`serve --store postgres://...`, each its own process) on one throwaway
// PostgreSQL. A real Envoy bootstrapped with both addresses serves a request
// loop; the replica its stream uses is killed with SIGKILL. No request fails,
// Envoy reconnects to the other replica and is SYNCED there, and the new
// replica has nothing to send (Delta: no resource at all, counted by its
// `tcp_xds_resources_sent_total`; SotW: Envoy keeps the very versions it held).
// The fleet view: before the kill the surviving replica already lists the Envoy
// under the replica that serves it; after, under itself; and a lean xDS client
// that knew only the killed replica leaves the view once its lease expired. Both
// replicas watch the same --config directory: one applies it, and after the kill
// the survivor runs it (taken over when the killed replica held it).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { parse } from "yaml";
import { startThrowawayPostgres } from "../../packages/control-plane/src/store/throwaway-postgres.ts";
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
  replica?: string;
  types: { type: string; state: string; currentVersion?: string; ackedVersion?: string }[];
}
interface Status {
  nodes: NodeStatus[];
  fleet?: { replica: string; replicas: { id: string }[]; singletons: { work: string; replica: string }[] };
}

const statusOf = async (cp: ControlPlaneProcess): Promise<Status> => (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as Status;
const nodeOf = async (cp: ControlPlaneProcess, nodeId: string): Promise<NodeStatus | undefined> => (await statusOf(cp)).nodes.find((n) => n.nodeId === nodeId);
const resourcesSent = async (cp: ControlPlaneProcess): Promise<number> => new PrometheusScrape(await (await fetch(`${cp.adminUrl}/metrics`)).text()).get("tcp_xds_resources_sent_total");

const leaseMs = 3_000;

for (const mode of ["delta", "sotw"] as const) {
  test(`PostgreSQL failover (${mode}): kill -9 the replica Envoy uses; no request fails, nothing new is sent, the fleet view follows`, { timeout: 150_000 }, (t) => failover(t, mode));
}

async function failover(t: TestContext, mode: "delta" | "sotw"): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `cp-e2e-pg-failover-${mode}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pg = await startThrowawayPostgres();
  t.after(() => pg.destroy());
  const upstream = await startHttpUpstream({ name: "web", t });
  const listenerPort = await freePort();
  const lease = ["--replica-lease-ms", String(leaseMs), "--replica-renew-ms", "500"];
  // Both replicas watch the same files: one of them applies them (singleton work under an advisory lock).
  const configDir = join(dir, "config");
  mkdirSync(configDir);
  writeFileSync(join(configDir, "web.yaml"), webModelYaml({ listenerPort, upstreamPort: upstream.port }));
  const replicas = await Promise.all(["a", "b"].map((r) => startControlPlane({ dataDir: join(dir, `data-${r}`), config: [configDir], extraArgs: ["--store", pg.url, "--replica-id", `replica-${r}`, ...lease], t })));
  const [a, b] = replicas as [ControlPlaneProcess, ControlPlaneProcess];
  const idOf = (cp: ControlPlaneProcess) => (cp === a ? "replica-a" : "replica-b");
  const holderOf = async (cp: ControlPlaneProcess) => (await statusOf(cp)).fleet?.singletons.find((w) => w.work === "file-sources")?.replica;
  const firstHolder = await waitUntil(async () => {
    const h = await holderOf(a);
    return h !== undefined && (await holderOf(b)) === h ? h : undefined;
  }, { timeoutMs: 20_000, description: "one replica holding the file sources, on both views" });
  // The holder wrote the files as revision 1; both replicas compiled it.
  for (const cp of replicas) await waitUntil(async () => ((await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as { revision: number }).revision === 1, { timeoutMs: 20_000, description: "the files' revision on every replica" });

  const nodeId = `pg-failover-${mode}`;
  const boot = await runCliProcess(
    ["bootstrap", "--node", nodeId, ...(mode === "delta" ? ["--delta"] : []), "--xds-address", `127.0.0.1:${a.xdsPort}`, "--xds-address", `127.0.0.1:${b.xdsPort}`],
    { server: a.adminUrl },
  );
  assert.equal(boot.code, 0, boot.stderr);
  const envoy = await startEnvoy({ bootstrap: parse(boot.stdout) as Json, name: `cp-pg-failover-${mode}`, t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by web\n", { timeoutMs: 20_000, description: "Envoy routes to the upstream" });

  // The fleet view on either replica names the replica the stream is on.
  const before = await waitUntil(async () => {
    const n = await nodeOf(a, nodeId);
    return n?.state === "SYNCED" && n.replica !== undefined && (await nodeOf(b, nodeId))?.replica === n.replica ? n : undefined;
  }, { timeoutMs: 20_000, description: `${nodeId} SYNCED, with the same replica on both views` });
  const connected = before.replica === "replica-a" ? a : b;
  const other = connected === a ? b : a;
  t.diagnostic(`Envoy is on ${before.replica}; both replicas' status say so`);
  // Envoy's own word for it: the control_plane.identifier of the responses it got (the replica's --replica-id).
  const identifier = async () => (await envoy.textStats("^control_plane\\.identifier$")).get("control_plane.identifier");
  assert.equal(await identifier(), before.replica, "Envoy's control_plane.identifier names the replica status names");
  // A lean client that knows only the replica about to die: it stays on that replica's lease.
  const lean = new RawXdsClient({ port: connected.xdsPort, nodeId: `lean-on-${idOf(connected)}` });
  t.after(() => lean.close());
  lean.send({ typeUrl: TypeUrl.Cluster });
  lean.ack(await lean.next(10_000));
  await waitUntil(async () => (await nodeOf(other, `lean-on-${idOf(connected)}`))?.replica === idOf(connected), { timeoutMs: 20_000, description: "the lean client in the other replica's view" });

  const sentByOtherBefore = await resourcesSent(other);
  const held = await envoyHeldVersions(envoy);
  const loop = startRequestLoop({ url, maxRequests: 5000, maxDurationMs: 90_000 });
  await waitUntil(() => loop.records.length >= 10, { timeoutMs: 10_000, description: "requests flowing before the kill" });
  const killedAt = Date.now();
  await connected.stop({ signal: "SIGKILL" });

  const after = await waitUntil(
    async () => {
      const s = await nodeOf(other, nodeId);
      return s?.connected === true && s.state === "SYNCED" && s.replica === idOf(other) ? s : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20, description: `${nodeId} SYNCED on ${idOf(other)}`, onTimeout: async () => JSON.stringify(await nodeOf(other, nodeId)) },
  );
  t.diagnostic(`reconnected and SYNCED on ${idOf(other)} ${Date.now() - killedAt} ms after the kill (status polled every 20 ms)`);
  if (mode === "sotw") {
    // Over SotW the new replica answers with the same versions, so Envoy hears its identifier.
    await waitUntil(async () => (await identifier()) === idOf(other), { timeoutMs: 10_000, description: `Envoy's control_plane.identifier to name ${idOf(other)}` });
  }
  const seen = loop.records.length;
  await waitUntil(() => loop.records.length >= seen + 10, { timeoutMs: 10_000, description: "requests after the switch" });
  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `of ${records.length} requests, none failed`);
  t.diagnostic(`${records.length} requests, 0 failed`);

  const acked = Object.fromEntries(before.types.map((x) => [x.type, x.ackedVersion]));
  assert.deepEqual(Object.fromEntries(after.types.map((x) => [x.type, x.currentVersion])), acked, "the same version of every type on both replicas");
  const sentByOther = (await resourcesSent(other)) - sentByOtherBefore;
  t.diagnostic(`resources the new replica sent: ${sentByOther}`);
  if (mode === "delta") assert.equal(sentByOther, 0, "over Delta Envoy said which versions it has; the new replica sent no resource");
  assert.deepEqual(await envoyHeldVersions(envoy), held, "Envoy holds the same versions of every resource");

  // The killed replica's lease runs out: its lean client and the replica leave the view.
  const gone = await waitUntil(
    async () => {
      const s = await statusOf(other);
      return s.nodes.some((n) => n.nodeId === `lean-on-${idOf(connected)}`) || s.fleet?.replicas.some((r) => r.id === idOf(connected)) ? undefined : s;
    },
    { timeoutMs: leaseMs * 10, description: `${idOf(connected)}'s proxies to leave the view after its ${leaseMs} ms lease` },
  );
  assert.deepEqual(gone.fleet?.replicas.map((r) => r.id), [idOf(other)]);
  assert.equal(gone.nodes.find((n) => n.nodeId === nodeId)?.replica, idOf(other));
  t.diagnostic(`${idOf(connected)} and its lean client left the view ${Date.now() - killedAt} ms after the kill (lease ${leaseMs} ms)`);

  // The watched files run on the survivor: it held them already, or took them over when the killed one's session ended.
  await waitUntil(async () => (await holderOf(other)) === idOf(other), { timeoutMs: 20_000, description: `the file sources on ${idOf(other)}` });
  t.diagnostic(`file sources: held by ${firstHolder} before the kill, by ${idOf(other)} after${firstHolder === idOf(connected) ? " (taken over)" : ""}`);
}
