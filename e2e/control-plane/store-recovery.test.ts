// Issue 14: the last good configuration is never replaced by nothing. A control plane serves a
// real Envoy; its store is backed up while it runs; it stops and its database is truncated to
// 0 bytes. The restart is refused with a message naming the file and the fix, exit code 1, and
// the Envoy keeps serving its last configuration (no request fails). `tcp restore` from the
// backup brings the store back, and the control plane serves it again to the same Envoy.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { mainScript, runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml } from "./scenario-files.ts";

/** Runs `serve` expecting it to refuse: its exit code and what it printed, bounded. */
function serveRefused(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainScript, "--xds-port", "0", "--admin-port", "0", "--no-example", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`serve did not exit within 15 s:\n${output}`));
    }, 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function synced(server: string): Promise<void> {
  await waitUntil(
    async () => {
      const s = (await (await fetch(`${server}/api/v1/status`)).json()) as { nodes: { nodeId: string; connected: boolean; state: string }[] };
      return s.nodes.some((n) => n.nodeId === "edge-1" && n.connected && n.state === "SYNCED");
    },
    { timeoutMs: 20_000, description: "edge-1 connected and SYNCED" },
  );
}

test("a store truncated to 0 bytes is refused at start, Envoy keeps serving, tcp restore recovers", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-store-recovery-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, "data");
  const db = join(dataDir, "control-plane.db");
  const service1 = await startHttpUpstream({ name: "service1", t });
  const listenerPort = await freePort();

  const first = await startControlPlane({ dataDir, t });
  const apply = await fetch(`${first.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: scenario2Yaml({ listenerPort, upstreamPort: service1.port }) });
  assert.equal(apply.status, 200, await apply.clone().text());
  await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: first.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-store-recovery", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });
  await synced(first.adminUrl);

  // The backup is taken while the control plane runs.
  const backup = join(dir, "backup.db");
  const b = await runCliProcess(["backup", backup, "--data-dir", dataDir], { server: first.adminUrl });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /backed up revision 1 \(3 objects\)/);

  const loop = startRequestLoop({ url, maxRequests: 20_000, maxDurationMs: 100_000, intervalMs: 10 });
  t.after(() => loop.stop());
  await loop.next((r) => r.status === 200);

  assert.equal(await first.stop(), 0, first.logs());
  truncateSync(db, 0);
  for (const s of ["-wal", "-shm"]) rmSync(`${db}${s}`, { force: true });

  const refused = await serveRefused(["--data-dir", dataDir]);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, /cannot start the control plane: the store .*control-plane\.db was empty \(0 bytes\)/);
  assert.match(refused.output, /revision 1 with 3 objects/);
  assert.match(refused.output, /tcp restore/);
  assert.match(refused.output, /--allow-empty-store/);
  // Envoy keeps its last configuration while no control plane runs.
  const during = await loop.next((r) => r.status === 200);
  assert.equal(during.body, "served by service1\n");

  const r = await runCliProcess(["restore", backup, "--data-dir", dataDir], { server: first.adminUrl });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /restored revision 1 \(3 objects\)/);

  const second = await startControlPlane({ dataDir, xdsPort: first.xdsPort, adminPort: first.adminPort, t });
  assert.match(second.logs(), /loaded revision 1 with 3 objects/);
  await synced(second.adminUrl);
  assert.equal((await httpGet(url)).body, "served by service1\n");

  const records = await loop.stop();
  assert.deepEqual(failedRecords(records), [], `failed requests across the refusal and the restore (of ${records.length})`);
  t.diagnostic(`requests in the loop: ${records.length}, failed: 0`);
  assert.equal(await second.stop(), 0, second.logs());
});
