// Issue 9, "is my change live?", against a real Envoy: `tcp apply --wait`
// returns once the Envoy ACKed the change (and says how long after the apply),
// exits 4 naming the node and Envoy's message when it NACKs, and exits 5
// naming a proxy that never answers (a raw xDS client that does not ACK).
// The logs carry the change id from the API through push to the ACK.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { parse } from "yaml";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml } from "./scenario-files.ts";

const tcpListener = (name: string, port: number) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Listener\nmetadata:\n  name: ${name}\nspec:\n  protocol: TCP\n  address: 127.0.0.1\n  port: ${port}\n  service: example_proxy_cluster\n`;

for (const mode of ["sotw", "delta"] as const) {
test(`apply --wait: returns after Envoy's ACK, exits 4 naming a NACK, exits 5 naming a proxy that never answers (${mode})`, { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-wait-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "service1", t });
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const server = cp.adminUrl;
  assert.equal((await runCliProcess(["apply", "-f", "-"], { server, input: scenario2Yaml({ listenerPort: await freePort(), upstreamPort: upstream.port }) })).code, 0);
  const bootstrap =
    mode === "sotw"
      ? (xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json)
      : (parse(await (await fetch(`${server}/api/v1/bootstrap?node=edge-1&delta=true&adminPort=0`)).text()) as Json);
  await startEnvoy({ bootstrap, name: `cp-apply-wait-${mode}`, t });
  await waitUntil(async () => (await runCliProcess(["status", "--check"], { server })).code === 0, { timeoutMs: 20_000, description: "edge-1 SYNCED" });

  // 1. ACK: a new listener; --wait returns once edge-1 acknowledged it.
  const started = Date.now();
  const live = await runCliProcess(["apply", "-f", "-", "--wait", "--timeout", "20s"], { server, input: tcpListener("tcp_extra", await freePort()) });
  const took = Date.now() - started;
  assert.equal(live.code, 0, live.stderr);
  const m = /live: 1 proxy acknowledged (\d+) ms after the apply \(edge-1 after (\d+) ms\)/.exec(live.stdout);
  assert.ok(m !== null, live.stdout);
  t.diagnostic(`${mode}: edge-1 ACKed ${m[2]} ms after the apply (CLI round trip ${took} ms)`);
  const changeId = /\(change (chg-\d+)\)/.exec(live.stdout)?.[1];
  assert.ok(changeId !== undefined, live.stdout);
  // One change id from the API through push to the ACK (JSON lines: the child's stdout is not a terminal).
  const lines = cp.logs().split("\n").filter((l) => l.includes(`"changeId":"${changeId}"`)).map((l) => JSON.parse(l) as { msg: string; level: string; node?: string });
  assert.ok(lines.some((l) => l.msg.startsWith("accepted change from cli")), JSON.stringify(lines));
  assert.ok(lines.some((l) => /compiled and pushed/.test(l.msg)), JSON.stringify(lines));
  assert.ok(lines.some((l) => l.msg.startsWith("ACK from edge-1 for Listener") && l.node === "edge-1"), JSON.stringify(lines));

  // 2. NACK: a listener on a port another process holds; Envoy rejects it.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const heldPort = (holder.address() as { port: number }).port;
  const nacked = await runCliProcess(["apply", "-f", "-", "--wait", "--timeout", "20s"], { server, input: tcpListener("tcp_busy", heldPort) });
  assert.equal(nacked.code, 4, `${nacked.stdout}\n${nacked.stderr}`);
  assert.match(nacked.stderr, /edge-1: NACKED: LDS: .*tcp_busy/);
  assert.match(nacked.stderr, /not live: 1 of 1 targeted proxies/);
  assert.match(cp.logs(), /"level":"warn".*"msg":"NACK from edge-1 for Listener/);
  // tcp status tells the same: the wait read the record status reports.
  const nackStatus = await runCliProcess(["status", "--check"], { server });
  assert.equal(nackStatus.code, 1);
  assert.match(nackStatus.stderr, /check: edge-1 is NACKED: LDS rejected: .*tcp_busy/);
  // The fix, waited for too: deleting it is live.
  const fixed = await runCliProcess(["delete", "Listener/tcp_busy", "--wait"], { server });
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.match(fixed.stdout, /live: 1 proxy acknowledged/);

  // 3. A proxy that takes its clusters and never ACKs: the wait times out naming it.
  const quiet = new RawXdsClient({ port: cp.xdsPort, nodeId: "quiet-1" });
  t.after(() => quiet.close());
  quiet.send({ typeUrl: TypeUrl.Cluster });
  await quiet.next();
  const service = `apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: extra\nspec:\n  endpoints:\n    - address: 127.0.0.1\n      port: ${upstream.port}\n`;
  const timedOut = await runCliProcess(["apply", "-f", "-", "--wait", "--timeout", "2s"], { server, input: service });
  assert.equal(timedOut.code, 5, `${timedOut.stdout}\n${timedOut.stderr}`);
  assert.match(timedOut.stderr, /quiet-1: did not answer within 2000 ms: CDS /);
  assert.match(timedOut.stdout, /edge-1: acknowledged after \d+ ms/);
  assert.match(timedOut.stderr, /not live: 1 of 2 targeted proxies/);
  const quietStatus = await runCliProcess(["status", "--check"], { server });
  assert.match(quietStatus.stderr, /check: quiet-1 is STALE: CDS not acknowledged at the current version/);
  assert.doesNotMatch(quietStatus.stderr, /edge-1/);

  // The API answers the same facts: 200 (the change is stored), live false, per node.
  const r = await fetch(`${server}/api/v1/delete?wait=1s`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ keys: ["Service/extra"] }) });
  assert.equal(r.status, 200);
  const body = (await r.json()) as { live: boolean; changeId: string; wait: { nodes: { node: string; result: string }[] } };
  assert.equal(body.live, false);
  assert.deepEqual(body.wait.nodes.map((n) => [n.node, n.result]), [["edge-1", "acked"], ["quiet-1", "timeout"]], JSON.stringify(body.wait));
});
}
