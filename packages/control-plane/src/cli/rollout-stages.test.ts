// Staged rollouts (--canary 25%,50%) through the running control plane (serve in-process) with four
// xDS clients on the wire that ACK what they are sent: each stage's proxies get the change, the
// rest keep the previous versions; promote moves one stage; abort puts every stage back.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { cli, poll as pollFor, serveOptions, serviceYaml } from "./cli-test-kit.ts";
import { defaultExamplePath, serve } from "../main.ts";
import type { Rollout } from "../rollout/rollout.ts";

type RolloutStatus = { revision: number; rollout: Rollout | null; nodes: { nodeId: string; revision: number }[] };

let describe: (() => Promise<string>) | undefined;

/** Polls with what the test saw in the timeout's message. */
const poll = <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => pollFor(what, fn, describe);

/** A client that ACKs every CDS response and remembers the last version it was sent. */
function ackingClient(port: number, nodeId: string): { close: () => void; version: () => string | undefined } {
  const client = new RawXdsClient({ port, nodeId });
  let version: string | undefined;
  let closed = false;
  client.send({ typeUrl: TypeUrl.Cluster });
  void (async () => {
    while (!closed) {
      try {
        const r = await client.next(500);
        version = r.versionInfo;
        client.ack(r);
      } catch {
        // Nothing sent within the 500 ms: ask again, until closed.
      }
    }
  })();
  return {
    close: () => {
      closed = true;
      client.close();
    },
    version: () => version,
  };
}

test("a rollout in stages: 25% then 50% (holding the 25%) then all, a promote per stage; an abort in the second stage puts both stages back", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-rollout-stages-"));
  const cp = await serve(serveOptions(join(dir, "data"), { examplePath: defaultExamplePath }));
  const base = `http://127.0.0.1:${cp.adminPort}`;
  const ids = ["edge-1", "edge-2", "edge-3", "edge-4"];
  const proxies = new Map(ids.map((id) => [id, ackingClient(cp.xdsPort, id)]));
  t.after(async () => {
    for (const p of proxies.values()) p.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const versionOf = (id: string) => proxies.get(id)?.version();
  await poll("every client was sent the clusters", async () => (ids.every((id) => versionOf(id) !== undefined) ? true : undefined));
  const status = async () => (await (await fetch(`${base}/api/v1/rollout`)).json()) as RolloutStatus;
  const post = async (path: string) => (await (await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { rollout: Rollout };
  describe = async () => JSON.stringify({ versions: ids.map(versionOf), status: await status() });
  await poll("all four connected", async () => ((await status()).nodes.length === 4 ? true : undefined));
  const old = versionOf("edge-1");

  const apply = await fetch(`${base}/api/v1/apply?canary=25%25,50%25&bake=50ms&manualPromote=true&ackTimeout=20s`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml("extra", 9999) });
  const reply = (await apply.json()) as { rollout: Rollout };
  assert.equal(apply.status, 200, JSON.stringify(reply));
  const { rollout } = reply;
  assert.deepEqual(rollout.canary, { share: 25, next: [50] });
  const [stage1 = [], stage2 = []] = rollout.stages ?? [];
  assert.deepEqual([stage1.length, stage2.length, rollout.stage], [1, 2, 0]);
  assert.ok(stage2.includes(stage1[0] ?? ""), "the 25% are inside the 50%");
  assert.deepEqual(rollout.canaryNodes, stage1);
  const onNew = async (expected: readonly string[], what: string) => {
    const s = await poll(what, async () => {
      const r = await status();
      const ok = ids.every((id) => (versionOf(id) !== old) === expected.includes(id));
      return ok && r.rollout?.state === "awaiting-promote" ? r : undefined;
    });
    assert.deepEqual(s.nodes.map((n) => [n.nodeId, n.revision]).sort(), ids.map((id) => [id, expected.includes(id) ? rollout.toRevision : rollout.fromRevision]));
    return s;
  };
  const first = await onNew(stage1, "stage 1 baked: only its proxy on the new revision");
  assert.equal(first.rollout?.stage, 0);
  assert.match((await cli(["rollout", "status"], { CONTROL_PLANE_SERVER: base })).out, /canary stage 1 of 2 \(25% -> 50% -> all\), 25% of the targeted proxies[\s\S]*next: tcp rollout promote \(stage 2\)/);

  const second = await post("/api/v1/rollout/promote");
  assert.deepEqual([second.rollout.state, second.rollout.stage, second.rollout.canaryNodes], ["canary", 1, stage2], "promote moves one stage");
  const baked2 = await onNew(stage2, "stage 2 baked: its two proxies on the new revision, the others still on the previous one");
  assert.equal(baked2.rollout?.stage, 1);
  const text = await cli(["rollout", "status"], { CONTROL_PLANE_SERVER: base });
  assert.match(text.out, new RegExp(`^rollout ${rollout.id}: awaiting-promote, revision ${rollout.fromRevision} -> ${rollout.toRevision}, canary stage 2 of 2 \\(25% -> 50% -> all\\), 50% of the targeted proxies \\(${stage2.join(", ")}\\)$`, "m"));
  assert.match(text.out, /next: tcp rollout promote \(or tcp rollout abort\)/, "the last stage: a promote gives it to every proxy");
  const done = await post("/api/v1/rollout/promote");
  assert.equal(done.rollout.state, "succeeded");
  await poll("every proxy on the new revision", async () => (ids.every((id) => versionOf(id) !== old) ? true : undefined));

  // The same stages again (another new cluster: these clients ask for CDS only), aborted in the second: both stages' proxies are put back.
  const now = versionOf("edge-1");
  const next = await fetch(`${base}/api/v1/apply?canary=25%25,50%25&bake=50ms&manualPromote=true`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml("extra-2", 9998) });
  assert.equal(next.status, 200, await next.clone().text());
  const again = ((await next.json()) as { rollout: Rollout }).rollout;
  assert.deepEqual(again.stages, rollout.stages, "the same proxies in the same stages: chosen stably");
  await poll("stage 1 baked", async () => ((await status()).rollout?.state === "awaiting-promote" ? true : undefined));
  await post("/api/v1/rollout/promote");
  await poll("stage 2 baked", async () => {
    const r = await status();
    return r.rollout?.state === "awaiting-promote" && r.rollout.stage === 1 && stage2.every((id) => versionOf(id) !== now) ? true : undefined;
  });
  const aborted = await post("/api/v1/rollout/abort");
  assert.equal(aborted.rollout.state, "aborted");
  await poll("every proxy back on the previous versions", async () => (ids.every((id) => versionOf(id) === now) ? true : undefined));

  // History tells which revisions were rolled out and how each rollout went.
  const history = (await (await fetch(`${base}/api/v1/history`)).json()) as { items: { revision: number; rollout?: Record<string, unknown> }[] };
  assert.deepEqual(
    history.items.map((r) => [r.revision, r.rollout]),
    [
      [4, undefined],
      [3, { id: 3, state: "aborted", outcome: "rolled-back", reason: "aborted by api", rollbackRevision: 4, stage: "2 of 2" }],
      [2, { id: 2, state: "succeeded", outcome: "promoted", stage: "2 of 2" }],
      [1, undefined],
    ],
  );
  const one = (await (await fetch(`${base}/api/v1/history/2`)).json()) as { rollout?: { outcome: string } };
  assert.equal(one.rollout?.outcome, "promoted");
  const table = await cli(["history"], { CONTROL_PLANE_SERVER: base });
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^REVISION +TIME +SOURCE +SUMMARY +ROLLOUT$/m);
  assert.match(table.out, /^3 .* rolled back by revision 4 \(stage 2 of 2\): aborted by api$/m);
  assert.match(table.out, /^2 .* promoted$/m);
  assert.match(table.out, /^4 .* -$/m);
});
