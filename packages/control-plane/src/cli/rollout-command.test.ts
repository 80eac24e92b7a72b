// Rollouts through the running control plane (serve in-process) with two xDS clients on the wire:
// which client is sent what, a NACK failing the canary, and the CLI's rollout commands.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { cli, poll, serveOptions, serviceYaml } from "./cli-test-kit.ts";
import { defaultExamplePath, serve } from "../main.ts";
import type { StatusReport } from "../status/status-report.ts";
import type { Rollout } from "../rollout/rollout.ts";

type RolloutStatus = { revision: number; rollout: Rollout | null; nodes: { nodeId: string; revision: number }[] };

test("a canary NACK fails the rollout: only the canary was sent the change, it is sent the previous versions again, the store rolls back", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-rollout-"));
  const cp = await serve(serveOptions(join(dir, "data"), { examplePath: defaultExamplePath }));
  const base = `http://127.0.0.1:${cp.adminPort}`;
  const clients = ["edge-1", "edge-2"].map((nodeId) => new RawXdsClient({ port: cp.xdsPort, nodeId }));
  t.after(async () => {
    for (const c of clients) c.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const first = await Promise.all(
    clients.map(async (c) => {
      c.send({ typeUrl: TypeUrl.Cluster });
      const r = await c.next();
      c.ack(r);
      return r;
    }),
  );
  const status = async () => (await (await fetch(`${base}/api/v1/status`)).json()) as StatusReport;
  const ackedCds = (s: StatusReport) => s.nodes.filter((n) => n.types.some((x) => x.type === "CDS" && x.ackedVersion !== undefined && x.ackedVersion === x.sentVersion)).length;
  await poll("both ACKed", async () => (ackedCds(await status()) === 2 ? true : undefined));

  const apply = await fetch(`${base}/api/v1/apply?canary=50%25&ackTimeout=20s&bake=10m`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml("extra", 9999) });
  const reply = (await apply.json()) as { revision: number; rollout: Rollout };
  assert.equal(apply.status, 200, JSON.stringify(reply));
  const { rollout } = reply;
  assert.equal(rollout.canaryNodes.length, 1, "50% of two targeted proxies");
  const canaryIndex = rollout.canaryNodes[0] === "edge-1" ? 0 : 1;
  const canary = clients[canaryIndex] as RawXdsClient;
  const changed = await canary.next();
  assert.notEqual(changed.versionInfo, first[canaryIndex]?.versionInfo, "the canary is sent the new revision");

  // Another change waits for the rollout.
  const refused = await fetch(`${base}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml("other", 1) });
  assert.equal(refused.status, 409);
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /rollout \d+ is running: promote or abort it/);

  const otherId = rollout.canaryNodes[0] === "edge-1" ? "edge-2" : "edge-1";
  const held = (await status()).nodes.find((n) => n.nodeId === otherId);
  assert.equal(held?.revision, rollout.fromRevision);
  assert.equal(held?.types.find((x) => x.type === "CDS")?.sentVersion, first[1 - canaryIndex]?.versionInfo, "the other proxy was sent nothing new");

  canary.send({ typeUrl: TypeUrl.Cluster, responseNonce: changed.nonce, versionInfo: first[canaryIndex]?.versionInfo ?? "", errorMessage: "cluster extra: refused" });
  const back = await canary.next(20_000);
  assert.equal(back.versionInfo, first[canaryIndex]?.versionInfo, "the canary is sent the previous versions again");
  canary.ack(back);
  const failed = await poll("the rollout failed", async () => {
    const s = (await (await fetch(`${base}/api/v1/rollout`)).json()) as RolloutStatus;
    return s.rollout?.state === "failed" && s.rollout.rollbackRevision !== undefined ? s : undefined;
  });
  assert.match(failed.rollout?.reason ?? "", new RegExp(`canary proxy ${rollout.canaryNodes[0]} NACKed revision ${rollout.toRevision}: CDS: cluster extra: refused`));
  assert.equal(failed.revision, rollout.toRevision + 1, "a rollback revision: the store says what the fleet runs");
  const history = (await (await fetch(`${base}/api/v1/history?limit=1`)).json()) as { items: { source: string; summary: string }[] };
  assert.deepEqual([history.items[0]?.source, history.items[0]?.summary], [`rollout:${rollout.id}`, `rollout ${rollout.id} failed: back to revision ${rollout.fromRevision}`]);
  // The rollback revision has the previous objects: nothing new for the proxy that never left them.
  const after = (await status()).nodes.find((n) => n.nodeId === otherId);
  assert.equal(after?.types.find((x) => x.type === "CDS")?.sentVersion, first[1 - canaryIndex]?.versionInfo);
});

test("tcp apply --canary, rollout status, promote and abort", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-rollout-cli-"));
  const cp = await serve(serveOptions(join(dir, "data"), { examplePath: defaultExamplePath }));
  const env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
  t.after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, "service.yaml");
  writeFileSync(file, serviceYaml("example_proxy_cluster", 9001));
  const usage = await cli(["apply", "-f", file, "--bake", "5s"], env);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--bake, --ack-timeout, --manual-promote, --max-5xx-increase, --max-connect-fail-increase and --min-requests go with --canary/);
  const bad = await cli(["apply", "-f", file, "--canary", "0%"], env);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /canary takes a share of the targeted proxies from 1% to 100%/);

  // No proxy is connected: nothing to judge, the canary stage passes and bakes.
  const applied = await cli(["apply", "-f", file, "--canary", "10%", "--bake", "50ms", "--manual-promote"], env);
  assert.equal(applied.code, 0, applied.err);
  assert.match(applied.out, /applied: revision 2/);
  assert.match(applied.out, /rollout 2: (canary|baking), revision 1 -> 2, canary 10% of the targeted proxies \(no proxy\)/);
  const waiting = await poll("awaiting a promote", async () => {
    const s = await cli(["rollout", "status"], env);
    return s.out.includes("rollout 2: awaiting-promote") ? s : undefined;
  });
  assert.match(waiting.out, /next: tcp rollout promote/);
  const promoted = await cli(["rollout", "promote"], env);
  assert.equal(promoted.code, 0, promoted.err);
  assert.match(promoted.out, /rollout 2: succeeded/);
  const again = await cli(["rollout", "promote"], env);
  assert.equal(again.code, 1);
  assert.match(again.err, /no rollout is running/);

  writeFileSync(file, serviceYaml("example_proxy_cluster", 9002));
  assert.equal((await cli(["apply", "-f", file, "--canary-group", "default", "--bake", "10m"], env)).code, 0);
  const aborted = await cli(["rollout", "abort"], env);
  assert.equal(aborted.code, 0, aborted.err);
  assert.match(aborted.out, /rollout 3: aborted/);
  assert.match(aborted.out, /reason: aborted by cli/);
  assert.match(aborted.out, /revision 4 put the objects back to revision 2/);
  const list = JSON.parse((await cli(["rollout", "list", "-o", "json"], env)).out) as { items: Rollout[] };
  assert.deepEqual(list.items.map((r) => [r.id, r.state]), [[3, "aborted"], [2, "succeeded"]]);
});

test("a canary proxy that does not ACK within the deadline fails the rollout, named with what it was missing", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-rollout-timeout-"));
  const cp = await serve(serveOptions(join(dir, "data"), { examplePath: defaultExamplePath }));
  const base = `http://127.0.0.1:${cp.adminPort}`;
  const client = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1" });
  t.after(async () => {
    client.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  client.send({ typeUrl: TypeUrl.Cluster });
  const first = await client.next();
  client.ack(first);
  await poll("edge-1 ACKed", async () => {
    const s = (await (await fetch(`${base}/api/v1/status`)).json()) as StatusReport;
    return s.nodes.some((n) => n.types.some((x) => x.type === "CDS" && x.ackedVersion === first.versionInfo)) ? true : undefined;
  });
  const apply = await fetch(`${base}/api/v1/apply?canaryGroup=default&ackTimeout=1s`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml("extra", 9999) });
  assert.equal(apply.status, 200, await apply.clone().text());
  // Sent, and never answered.
  assert.notEqual((await client.next()).versionInfo, first.versionInfo);
  const failed = await poll("the rollout failed", async () => {
    const s = (await (await fetch(`${base}/api/v1/rollout`)).json()) as RolloutStatus;
    return s.rollout?.state === "failed" ? s.rollout : undefined;
  });
  assert.match(failed.reason ?? "", /canary proxy edge-1 \(timeout: CDS sent, never acknowledged\) did not ACK revision 2 within 1000 ms/);
  assert.equal(failed.rollbackRevision, 3);
  // Back on the previous versions (sent once the 1 s deadline passed: waited for far longer).
  assert.equal((await client.next(20_000)).versionInfo, first.versionInfo);
});

test("restarted while the canary had not ACKed yet: the rollout waits for the canary to come back, and fails when it does not within the deadline", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-rollout-resume-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, "data");
  const first = await serve(serveOptions(dataDir, { examplePath: defaultExamplePath }));
  const client = new RawXdsClient({ port: first.xdsPort, nodeId: "edge-1" });
  client.send({ typeUrl: TypeUrl.Cluster });
  client.ack(await client.next());
  const base = `http://127.0.0.1:${first.adminPort}`;
  await poll("edge-1 connected", async () => (((await (await fetch(`${base}/api/v1/status`)).json()) as StatusReport).nodes.length === 1 ? true : undefined));
  const apply = await fetch(`${base}/api/v1/apply?canaryGroup=default&ackTimeout=1s`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml("extra", 9999) });
  assert.equal(apply.status, 200, await apply.clone().text());
  await client.next(20_000);
  // Stopped before edge-1 answered: the rollout is stored in its canary stage (a shutdown is no canary failure).
  await first.close();
  client.close();

  const second = await serve(serveOptions(dataDir));
  t.after(() => second.close());
  const failed = await poll("the resumed rollout failed", async () => {
    const s = (await (await fetch(`http://127.0.0.1:${second.adminPort}/api/v1/rollout`)).json()) as RolloutStatus;
    return s.rollout?.state === "failed" ? s.rollout : undefined;
  });
  assert.equal(failed.reason, "canary proxy edge-1 did not reconnect within 1000 ms after the control plane restarted");
  assert.equal(failed.rollbackRevision, 3);
});
