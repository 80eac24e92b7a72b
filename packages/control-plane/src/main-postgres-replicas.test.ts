import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { createOpenApiRecorder } from "./admin/openapi-check.ts";
import { defaultExamplePath, type RunningControlPlane, type ServeOptions, serve } from "./main.ts";
import type { StatusReport } from "./status/status-report.ts";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./store/throwaway-postgres.ts";

// Issue 10 items 1, 2 and 7: replicas in this process on one throwaway PostgreSQL, no mock.
const openApi = createOpenApiRecorder();
after(() => openApi.assertClean());

let pg: ThrowawayPostgres;
const dirs: string[] = [];
const replicas: RunningControlPlane[] = [];
before(async () => {
  pg = await startThrowawayPostgres();
});
after(async () => {
  for (const r of replicas) await r.close();
  pg?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function replica(extra: Partial<ServeOptions> = {}): Promise<RunningControlPlane & { admin: string }> {
  const dir = mkdtempSync(join(tmpdir(), "cp-pg-replica-"));
  dirs.push(dir);
  const cp = await serve({
    ...extra,
    xdsHost: "127.0.0.1",
    xdsPort: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    configPaths: extra.configPaths ?? [],
    debounceMs: 5,
    onAdminReply: openApi.onReply,
    dataDir: dir,
    store: pg.url,
    log: () => {},
  });
  replicas.push(cp);
  return { ...cp, admin: `http://127.0.0.1:${cp.adminPort}` };
}

const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const send = (url: string, method: string, body: string, type = "application/yaml") => fetch(url, { method, headers: { "content-type": type }, body });

/** Polls every 20 ms for at most 10 s (the expected time is ~100 ms). */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 500; i++) {
    last = await fn();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last)}`);
}

/** The CDS version a fresh xDS client is served by this replica. */
async function cdsVersion(xdsPort: number): Promise<string> {
  const client = new RawXdsClient({ port: xdsPort, nodeId: `probe-${xdsPort}` });
  try {
    client.send({ typeUrl: TypeUrl.Cluster });
    return (await client.next(5000)).versionInfo;
  } finally {
    client.close();
  }
}

const service = (port: number) => JSON.stringify({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "example_proxy_cluster" }, spec: { endpoints: [{ address: "127.0.0.1", port }] } });

describe("replicas on one PostgreSQL", () => {
  it("an apply on A is stored, compiled and served by B with the same versions; conflicting writes: exactly one wins; an outage refuses writes, keeps serving, and converges after", async () => {
    const a = await replica();
    const b = await replica();

    // 1. Apply on A, visible on B: the object, the pushed revision, the same xDS version.
    const applied = await send(`${a.admin}/api/v1/apply`, "POST", readFileSync(defaultExamplePath, "utf8"));
    assert.equal(applied.status, 200, await applied.clone().text());
    const revision = ((await applied.json()) as { revision: number }).revision;
    await eventually("B to push A's revision", async () => ((await json<StatusReport>(`${b.admin}/api/v1/status`)).revision === revision ? true : undefined));
    const onB = await json<{ revision: number; items: { key?: string }[] }>(`${b.admin}/api/v1/objects`);
    assert.equal(onB.items.length, 3);
    assert.equal(await cdsVersion(b.xdsPort), await cdsVersion(a.xdsPort), "both replicas compiled the same revision to the same versions");

    // 2. The same expectedRevision on A and B at once: one 200, one 409.
    const object = await json<{ revision: number }>(`${a.admin}/api/v1/objects/Service/example_proxy_cluster`);
    const put = (base: string, port: number) => send(`${base}/api/v1/objects/Service/example_proxy_cluster?expectedRevision=${object.revision}`, "PUT", service(port), "application/json");
    const answers = await Promise.all([put(a.admin, 8082), put(b.admin, 8083)]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409], JSON.stringify(await Promise.all(answers.map((r) => r.text()))));
    const winner = await json<{ revision: number }>(`${a.admin}/api/v1/objects/Service/example_proxy_cluster`);
    await eventually(`B to converge on the winner (revision ${winner.revision})`, async () => ((await json<StatusReport>(`${b.admin}/api/v1/status`)).revision === winner.revision ? true : undefined));

    // 3. PostgreSQL stopped: writes 503 store_unavailable, healthz degraded, reads and xDS still served.
    const servedBefore = await cdsVersion(a.xdsPort);
    pg.stop();
    const refused = await send(`${a.admin}/api/v1/objects/Service/example_proxy_cluster`, "PUT", service(8084), "application/json");
    assert.equal(refused.status, 503);
    const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, "store_unavailable");
    assert.match(error.message, /postgres:\/\/.*unreachable.*start PostgreSQL/);
    for (const r of [a, b]) {
      const health = await eventually("healthz to say degraded", async () => {
        const h = await json<{ status: string; store?: { state: string; reason?: string } }>(`${r.admin}/healthz`);
        return h.status === "degraded" ? h : undefined;
      });
      assert.equal(health.store?.state, "unavailable");
      assert.match(health.store?.reason ?? "", /cannot reach postgres:\/\//);
    }
    const status = await json<StatusReport>(`${b.admin}/api/v1/status`);
    assert.equal(status.store?.state, "unavailable");
    assert.equal((await fetch(`${b.admin}/api/v1/objects/Service/example_proxy_cluster`)).status, 200, "reads are served from the mirror");
    assert.equal(await cdsVersion(a.xdsPort), servedBefore, "xDS serves the last compiled configuration");

    // 4. PostgreSQL back: both reconnect, a write on B works, A converges on it.
    pg.start();
    for (const r of [a, b]) await eventually("healthz ok again", async () => ((await json<{ status: string }>(`${r.admin}/healthz`)).status === "ok" ? true : undefined));
    const after = await send(`${b.admin}/api/v1/objects/Service/example_proxy_cluster`, "PUT", service(8085), "application/json");
    assert.equal(after.status, 200, await after.text());
    const latest = await json<{ revision: number }>(`${b.admin}/api/v1/objects/Service/example_proxy_cluster`);
    await eventually("A to converge after the outage", async () => ((await json<StatusReport>(`${a.admin}/api/v1/status`)).revision === latest.revision ? true : undefined));
    assert.equal(await cdsVersion(a.xdsPort), await cdsVersion(b.xdsPort));
  });

  it("fleet view: status on any replica lists every replica's proxies and which replica serves each; watched files are applied by one replica, taken over when it stops", async () => {
    const files = mkdtempSync(join(tmpdir(), "cp-pg-files-"));
    dirs.push(files);
    writeFileSync(join(files, "example.yaml"), readFileSync(defaultExamplePath, "utf8"));
    const lease = { leaseMs: 2_000, renewMs: 200 };
    const a = await replica({ replicaId: "replica-a", replicaLease: lease, configPaths: [files] });
    const b = await replica({ replicaId: "replica-b", replicaLease: lease, configPaths: [files] });
    const onA = new RawXdsClient({ port: a.xdsPort, nodeId: "proxy-on-a" });
    const onB = new RawXdsClient({ port: b.xdsPort, nodeId: "proxy-on-b" });
    try {
      for (const c of [onA, onB]) {
        c.send({ typeUrl: TypeUrl.Cluster });
        c.ack(await c.next(5000));
      }
      // The first test's replicas are still live on this database, with their probes: only ours are looked at.
      const fleetOf = (s: StatusReport) => s.nodes.filter((n) => n.nodeId.startsWith("proxy-on-")).map((n) => `${n.nodeId}@${n.replica ?? "?"}`).sort().join();
      for (const r of [a, b]) {
        const s = await eventually("every proxy with its replica", async () => {
          const st = await json<StatusReport>(`${r.admin}/api/v1/status`);
          return fleetOf(st) === "proxy-on-a@replica-a,proxy-on-b@replica-b" ? st : undefined;
        });
        assert.ok(["replica-a", "replica-b"].every((id) => s.fleet?.replicas.some((x) => x.id === id)), JSON.stringify(s.fleet));
        // The per-object count is fleet-wide: both proxies acknowledged the example's cluster.
        assert.ok((s.objects.find((o) => o.object === "Service/example_proxy_cluster")?.targets ?? 0) >= 2);
      }
      // The watched files run on one replica; status names it.
      const holder = await eventually("a holder of the file sources", async () => (await json<StatusReport>(`${a.admin}/api/v1/status`)).fleet?.singletons.find((w) => w.work === "file-sources")?.replica);
      const [stopped, other] = holder === "replica-a" ? [a, b] : [b, a];
      // Closed again by after(): a second close does nothing.
      await stopped.close();
      const next = await eventually("the other replica to take the file sources over", async () => {
        const st = await json<StatusReport>(`${other.admin}/api/v1/status`);
        const h = st.fleet?.singletons.find((w) => w.work === "file-sources")?.replica;
        return h !== undefined && h !== holder ? { st, h } : undefined;
      });
      assert.equal(next.h, holder === "replica-a" ? "replica-b" : "replica-a");
      // A replica that stopped gives its lease up: its proxy leaves the view at once.
      const gone = holder === "replica-a" ? "proxy-on-a" : "proxy-on-b";
      await eventually("the stopped replica's proxy to leave the view", async () => ((await json<StatusReport>(`${other.admin}/api/v1/status`)).nodes.some((n) => n.nodeId === gone) ? undefined : true));
    } finally {
      onA.close();
      onB.close();
    }
  });
});
