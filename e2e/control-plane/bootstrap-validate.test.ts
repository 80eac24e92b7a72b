// Issue 14: the bootstrap endpoint writes YAML with the YAML library and checks
// the node id and cluster, so a query cannot inject keys; what it serves is a
// bootstrap real Envoy accepts (`envoy --mode validate`), for SotW and Delta.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";

const run = promisify(execFile);

test("the bootstrap endpoint serves YAML Envoy validates, and refuses a node id that would inject keys", { timeout: 60_000 }, async (t) => {
  const bin = process.env["ENVOY_BIN"];
  if (!bin) throw new Error("ENVOY_BIN is not set: run through `bash scripts/toolchain.sh`");
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-bootstrap-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });

  for (const query of [
    "node=edge-1&cluster=edge",
    "node=sidecar~10.0.0.1~web.ns~ns.svc.cluster.local&delta=true&adminPort=19901",
    // Several replicas (issue 10): IPs and names (STRICT_DNS), with and without explicit reconnect bounds.
    "node=edge-1&delta=true&xdsAddress=127.0.0.1:18000&xdsAddress=%5B::1%5D:18001",
    "node=edge-1&xdsAddress=localhost:18000&xdsAddress=127.0.0.1:18001&xdsRetryBase=50ms&xdsRetryMax=2s&xdsConnectTimeout=250ms",
  ]) {
    const r = await fetch(`${cp.adminUrl}/api/v1/bootstrap?${query}`);
    const text = await r.text();
    assert.equal(r.status, 200, text);
    const parsed = parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ["node", "dynamic_resources", "static_resources", "admin"]);
    const file = join(dir, "bootstrap.yaml");
    writeFileSync(file, text);
    const { stdout, stderr } = await run(bin, ["--mode", "validate", "-c", file, "--disable-hot-restart", "-l", "error"]);
    assert.match(`${stdout}${stderr}`, /configuration '.*bootstrap\.yaml' OK/);
  }

  const injected = await fetch(`${cp.adminUrl}/api/v1/bootstrap?node=edge-1%0Alayered_runtime:%20{layers:%20[]}`);
  const body = (await injected.json()) as { error: { code: string; message: string } };
  assert.equal(injected.status, 400);
  assert.equal(body.error.code, "bad_request");
  assert.match(body.error.message, /^node must be 1-256 characters of .*, not "edge-1\\nlayered_runtime/);
  const badCluster = await fetch(`${cp.adminUrl}/api/v1/bootstrap?node=edge-1&cluster=a%20b`);
  assert.equal(badCluster.status, 400);
  const cli = await runCliProcess(["bootstrap", "--node", "edge 1"], { server: cp.adminUrl });
  assert.notEqual(cli.code, 0);
  assert.equal(cli.stdout, "");
  assert.match(cli.stderr, /node must be 1-256 characters/);
});
