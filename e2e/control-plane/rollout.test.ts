// Staged rollouts with three real Envoys (issue 11): a change goes to the canary
// first while the other Envoys keep exactly the previous revision (their
// config_dump does not change), then to all after the bake; a change Envoy
// NACKs reaches only the canary, which is put back at once, and the store gets a
// rollback revision; a control plane restarted mid-rollout takes it up where it was; a rollout in
// stages reaches each stage's Envoys in turn.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { parse } from "yaml";
import type { ConfigDump, Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicEndpoints, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePorts } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream, type Upstream } from "../harness/http-upstream.ts";
import { failedRecords, type RequestLoop, startRequestLoop } from "../harness/request-loop.ts";
import { type EnvoyProcess, startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { type ControlPlaneProcess, runCliProcess, startControlPlane } from "./control-plane-process.ts";

const nodes = ["edge-a", "edge-b", "edge-c"] as const;
type Node = (typeof nodes)[number];

type Rollout = { id: number; state: string; fromRevision: number; toRevision: number; canaryNodes: string[]; reason?: string; rollbackRevision?: number; bakeEndsAt?: string; endedAt?: string };
type RolloutStatus = { revision: number; rollout: Rollout | null; nodes: { nodeId: string; group: string | null; revision: number; state: string }[] };

/** Every version Envoy reports, listeners, routes, clusters and endpoints: "its config_dump does not change". */
const versions = (d: ConfigDump) => ({
  clusters: dynamicClusters(d).map((c) => [c.name, c.versionInfo]),
  listeners: dynamicListeners(d).map((l) => [l.name, l.versionInfo, l.state]),
  routes: dynamicRoutes(d).map((r) => [r.name, r.versionInfo]),
  endpoints: dynamicEndpoints(d).map((e) => [e.name, e.versionInfo]),
});

const doc = (kind: string, name: string, spec: Json) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const group = (n: Node, listeners: readonly string[]) => doc("NodeGroup", `group-${n}`, { selector: { clusters: [n] }, listeners });

interface Fleet {
  readonly cp: () => ControlPlaneProcess;
  readonly envoys: ReadonlyMap<Node, EnvoyProcess>;
  readonly ports: ReadonlyMap<Node, number>;
  readonly service1: Upstream;
  readonly service2: Upstream;
  apply(objects: readonly Json[], query: string): Promise<{ status: number; body: Json & { rollout?: Rollout; revision: number } }>;
  rollout(): Promise<RolloutStatus>;
  body(node: Node): Promise<string>;
  restart(): Promise<void>;
}

/** One control plane, three Envoys each in its own node group (own listener port), all routing to Service/backend. */
async function startFleet(t: TestContext, name: string, options: { metricsSink?: boolean } = {}): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), `cp-e2e-rollout-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const listenerPorts = await freePorts(nodes.length);
  const ports = new Map(nodes.map((n, i) => [n, listenerPorts[i] ?? 0]));
  const sinkArgs = options.metricsSink === true ? ["--metrics-sink-port", String((await freePorts(1))[0])] : [];
  let cp = await startControlPlane({ dataDir: join(dir, "data"), extraArgs: ["--no-example", ...sinkArgs], t });
  const sinkPort = Number(sinkArgs[1] ?? 0);
  assert.ok(sinkPort === 0 || cp.logs().includes(`metrics sink: Envoy's MetricsService on 127.0.0.1:${sinkPort}`));
  const apply = async (objects: readonly Json[], query = "") => {
    const r = await fetch(`${cp.adminUrl}/api/v1/apply${query === "" ? "" : `?${query}`}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
    return { status: r.status, body: (await r.json()) as Json & { rollout?: Rollout; revision: number } };
  };
  const setup = await apply([
    doc("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: service1.port }] }),
    ...nodes.flatMap((n) => [
      group(n, [`web-${n}`]),
      doc("Listener", `web-${n}`, { protocol: "HTTP", address: "127.0.0.1", port: ports.get(n) }),
      doc("Route", `route-${n}`, { listeners: [`web-${n}`], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
    ]),
  ]);
  assert.equal(setup.status, 200, JSON.stringify(setup.body));
  const envoys = new Map<Node, EnvoyProcess>();
  await Promise.all(
    nodes.map(async (n) => {
      // With the metrics sink, the control plane's own bootstrap: it points Envoy's stats at the sink.
      const bootstrap = sinkPort === 0
        ? (xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: n, nodeCluster: n }) as Json)
        : (parse(await (await fetch(`${cp.adminUrl}/api/v1/bootstrap?node=${n}&cluster=${n}&adminPort=0`)).text()) as Json);
      envoys.set(n, await startEnvoy({ bootstrap, name: `cp-rollout-${name}-${n}`, t }));
    }),
  );
  const body = async (n: Node) => (await httpGet(`http://127.0.0.1:${ports.get(n)}/`)).body;
  for (const n of nodes) await waitUntil(async () => (await body(n)) === "served by service1\n", { timeoutMs: 60_000, description: `${n} routes to service1` });
  const rollout = async () => (await (await fetch(`${cp.adminUrl}/api/v1/rollout`)).json()) as RolloutStatus;
  await waitUntil(async () => (await rollout()).nodes.filter((x) => x.state === "SYNCED").length === 3, { timeoutMs: 60_000, description: "three Envoys SYNCED" });
  return {
    cp: () => cp,
    envoys,
    ports,
    service1,
    service2,
    apply,
    rollout,
    body,
    async restart() {
      const { xdsPort, adminPort } = cp;
      await cp.stop({ signal: "SIGKILL" });
      cp = await startControlPlane({ dataDir: join(dir, "data"), xdsPort, adminPort, extraArgs: ["--no-example", ...sinkArgs], t });
    },
  };
}

/** One request loop per Envoy, for "zero failed requests anywhere". */
function loops(t: TestContext, fleet: Fleet): Map<Node, RequestLoop> {
  const out = new Map<Node, RequestLoop>();
  for (const n of nodes) {
    const loop = startRequestLoop({ url: `http://127.0.0.1:${fleet.ports.get(n)}/`, maxRequests: 20_000, maxDurationMs: 100_000, intervalMs: 10 });
    t.after(() => loop.stop());
    out.set(n, loop);
  }
  return out;
}

const dumps = async (fleet: Fleet, which: readonly Node[]) => Object.fromEntries(await Promise.all(which.map(async (n) => [n, versions(await (fleet.envoys.get(n) as EnvoyProcess).configDump({ includeEds: true }))])));

test("rollout of a good change: the canary Envoy serves it first, the others keep their config_dump, after the bake all serve it, no request fails", { timeout: 120_000 }, async (t) => {
  const fleet = await startFleet(t, "good");
  const traffic = loops(t, fleet);
  for (const loop of traffic.values()) await loop.next((r) => r.status === 200);
  const before = await dumps(fleet, nodes);

  // A share of 10% of three targeted proxies is one canary, chosen by hash of its node id.
  const r = await fleet.apply([doc("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: fleet.service2.port }] })], "canary=10%25&bake=8s");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rollout = r.body.rollout;
  assert.ok(rollout !== undefined, "the reply describes the rollout");
  assert.equal(rollout.canaryNodes.length, 1);
  const canary = rollout.canaryNodes[0] as Node;
  const others = nodes.filter((n) => n !== canary);
  t.diagnostic(`canary: ${canary}`);

  await waitUntil(async () => (await fleet.body(canary)) === "served by service2\n", { timeoutMs: 30_000, description: "the canary serves the change" });
  const during = await fleet.rollout();
  assert.ok(["canary", "baking"].includes(during.rollout?.state ?? ""), JSON.stringify(during.rollout));
  assert.deepEqual(
    during.nodes.map((n) => [n.nodeId, n.revision]).sort(),
    nodes.map((n) => [n, n === canary ? rollout.toRevision : rollout.fromRevision]),
    "status shows which proxy is on which revision",
  );
  for (const n of others) assert.equal(await fleet.body(n), "served by service1\n", `${n} keeps the previous revision`);
  assert.deepEqual(await dumps(fleet, others), Object.fromEntries(others.map((n) => [n, before[n]])), "the other Envoys' config_dump does not change");
  const statusText = await runCliProcess(["rollout", "status"], { server: fleet.cp().adminUrl });
  assert.equal(statusText.code, 0, statusText.stderr);
  assert.match(statusText.stdout, new RegExp(`rollout ${rollout.id}: (canary|baking)`));
  assert.match(statusText.stdout, new RegExp(`${canary} +group-${canary} +${rollout.toRevision} `));

  // After the bake every Envoy gets it.
  const done = await waitUntil(async () => {
    const s = await fleet.rollout();
    return s.rollout?.state === "succeeded" ? s : undefined;
  }, { timeoutMs: 60_000, description: "the rollout succeeds after the bake" });
  assert.ok(done.nodes.every((n) => n.revision === rollout.toRevision), JSON.stringify(done.nodes));
  for (const n of nodes) await waitUntil(async () => (await fleet.body(n)) === "served by service2\n", { timeoutMs: 30_000, description: `${n} serves the change` });
  const records = await Promise.all([...traffic.values()].map((l) => l.stop()));
  for (const [i, rs] of records.entries()) {
    assert.ok(rs.length > 10, "the loop ran");
    assert.deepEqual(failedRecords(rs), [], `no failed request through ${nodes[i]}`);
  }
});

test("rollout in stages (30%, 60%, all): each stage's Envoys serve the change, holding the previous stage's, while the rest keep their config_dump; no request fails", { timeout: 120_000 }, async (t) => {
  const fleet = await startFleet(t, "stages");
  const traffic = loops(t, fleet);
  for (const loop of traffic.values()) await loop.next((r) => r.status === 200);
  const before = await dumps(fleet, nodes);
  const r = await fleet.apply([doc("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: fleet.service2.port }] })], "canary=30%25,60%25&bake=5s");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rollout = r.body.rollout as Rollout & { stages?: string[][] };
  const [first = [], second = []] = rollout.stages ?? [];
  assert.deepEqual([first.length, second.length], [1, 2]);
  assert.ok(second.includes(first[0] ?? ""), "the first stage's Envoy is in the second");
  for (const [stage, serving] of [first, second].entries()) {
    await waitUntil(async () => {
      const s = (await fleet.rollout()).rollout as (Rollout & { stage?: number }) | null;
      return s?.state === "baking" && s.stage === stage ? true : undefined;
    }, { timeoutMs: 30_000, description: `stage ${stage + 1} bakes` });
    for (const n of nodes) assert.equal(await fleet.body(n), serving.includes(n) ? "served by service2\n" : "served by service1\n", `${n} in stage ${stage + 1}`);
    const rest = nodes.filter((n) => !serving.includes(n));
    assert.deepEqual(await dumps(fleet, rest), Object.fromEntries(rest.map((n) => [n, before[n]])), `stage ${stage + 1}: the others' config_dump does not change`);
  }
  await waitUntil(async () => ((await fleet.rollout()).rollout?.state === "succeeded" ? true : undefined), { timeoutMs: 30_000, description: "promoted after the last stage's bake" });
  for (const n of nodes) await waitUntil(async () => (await fleet.body(n)) === "served by service2\n", { timeoutMs: 30_000, description: `${n} serves the change` });
  const records = await Promise.all([...traffic.values()].map((l) => l.stop()));
  for (const [i, rs] of records.entries()) assert.deepEqual(failedRecords(rs), [], `no failed request through ${nodes[i]}`);
});

test("rollout of a change Envoy NACKs: only the canary gets it, the rollout fails and puts it back, the others never see it", { timeout: 120_000 }, async (t) => {
  const fleet = await startFleet(t, "nack");
  // A TCP listener on a port another process holds: valid for us, Envoy cannot bind it (NACK).
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const heldPort = (holder.address() as { port: number }).port;
  const traffic = loops(t, fleet);
  for (const loop of traffic.values()) await loop.next((r) => r.status === 200);
  const before = await dumps(fleet, nodes);
  const statusOf = async () => (await (await fetch(`${fleet.cp().adminUrl}/api/v1/status`)).json()) as { nodes: { nodeId: string; types: { type: string; ackedVersion?: string; ackedAt?: string; nack?: { at: string; version: string } }[] }[] };
  const ldsOf = async () => (await statusOf()).nodes.find((n) => n.nodeId === "edge-b")?.types.find((x) => x.type === "LDS");
  const previousLds = (await ldsOf())?.ackedVersion;
  assert.ok(previousLds !== undefined);

  // Every group gets it: a change that targets all three Envoys.
  const bad = [doc("Listener", "busy", { protocol: "TCP", address: "127.0.0.1", port: heldPort, service: "backend" }), ...nodes.map((n) => group(n, [`web-${n}`, "busy"]))];
  const r = await fleet.apply(bad, "canaryGroup=group-edge-b&bake=30s&ackTimeout=20s");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rollout = r.body.rollout as Rollout;
  assert.deepEqual(rollout.canaryNodes, ["edge-b"]);

  const failed = await waitUntil(async () => {
    const s = await fleet.rollout();
    return s.rollout?.state === "failed" ? s : undefined;
  }, { timeoutMs: 20_000, description: "the rollout fails on the NACK", onTimeout: () => fleet.envoys.get("edge-b")?.logs(20) ?? "" });
  const reason = failed.rollout?.reason ?? "";
  t.diagnostic(`reason: ${reason}`);
  assert.match(reason, /canary proxy edge-b NACKed revision \d+: LDS: .*busy/);
  // The store says what the fleet runs: a rollback revision with the previous objects.
  const rollbackRevision = failed.rollout?.rollbackRevision;
  assert.equal(rollbackRevision, rollout.toRevision + 1);
  const history = (await (await fetch(`${fleet.cp().adminUrl}/api/v1/history?limit=1`)).json()) as { items: { revision: number; source: string; summary: string }[] };
  assert.equal(history.items[0]?.revision, rollbackRevision);
  assert.match(history.items[0]?.summary ?? "", new RegExp(`rollout ${rollout.id} failed: back to revision ${rollout.fromRevision}`));
  assert.equal((await fetch(`${fleet.cp().adminUrl}/api/v1/objects/Listener/busy`)).status, 404, "the NACKed object is gone from the store");

  // The canary is back on the previous revision: the very versions it had.
  await waitUntil(async () => {
    const now = await dumps(fleet, ["edge-b"]);
    return JSON.stringify(now["edge-b"]) === JSON.stringify(before["edge-b"]) ? true : undefined;
  }, { timeoutMs: 10_000, description: "edge-b back on the previous versions" });
  // Both times are the control plane's: when edge-b's NACK arrived, and when it ACKed the previous LDS again.
  const lds = await waitUntil(async () => {
    const x = await ldsOf();
    return x?.ackedVersion === previousLds && x.nack !== undefined && x.ackedAt !== undefined && Date.parse(x.ackedAt) >= Date.parse(x.nack.at) ? x : undefined;
  }, { timeoutMs: 10_000, description: "edge-b ACKed the previous LDS after its NACK" });
  t.diagnostic(`NACK -> canary ACKed the previous revision again: ${Date.parse(lds.ackedAt ?? "") - Date.parse(lds.nack?.at ?? "")} ms (control plane clock)`);
  const stored = await fleet.rollout();
  assert.ok(stored.nodes.every((n) => n.state === "SYNCED"), JSON.stringify(stored.nodes));
  // The others never saw it.
  assert.deepEqual(await dumps(fleet, ["edge-a", "edge-c"]), { "edge-a": before["edge-a"], "edge-c": before["edge-c"] });
  const records = await Promise.all([...traffic.values()].map((l) => l.stop()));
  for (const [i, rs] of records.entries()) assert.deepEqual(failedRecords(rs), [], `no failed request through ${nodes[i]}`);
});

test("a control plane restarted mid-rollout resumes it: same stage and canary, the others still on the previous revision, then promoted", { timeout: 120_000 }, async (t) => {
  const fleet = await startFleet(t, "restart");
  const before = await dumps(fleet, nodes);
  const r = await fleet.apply([doc("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: fleet.service2.port }] })], "canaryGroup=group-edge-c&bake=5s&manualPromote=true");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rollout = r.body.rollout as Rollout;
  const baking = await waitUntil(async () => {
    const s = await fleet.rollout();
    return s.rollout?.state === "baking" ? s.rollout : undefined;
  }, { timeoutMs: 20_000, description: "the canary ACKed: baking" });
  await waitUntil(async () => (await fleet.body("edge-c")) === "served by service2\n", { timeoutMs: 30_000, description: "the canary serves the change" });

  // Killed mid-bake: the restarted control plane keeps the stage and the end of the bake.
  await fleet.restart();
  const resumed = await fleet.rollout();
  assert.equal(resumed.rollout?.id, rollout.id);
  assert.equal(resumed.rollout?.bakeEndsAt, baking.bakeEndsAt, "the remaining bake time is kept");
  const bakeEnds = Date.parse(baking.bakeEndsAt ?? "");
  // A slow restart may outlast the bake; then, and only then, it is already waiting for the promote.
  if (Date.now() < bakeEnds) assert.equal(resumed.rollout?.state, "baking");
  else assert.ok(["baking", "awaiting-promote"].includes(resumed.rollout?.state ?? ""), resumed.rollout?.state);
  await waitUntil(async () => (await fleet.rollout()).rollout?.state === "awaiting-promote", { timeoutMs: 30_000, description: "baked after the restart, waiting for a promote" });
  assert.ok(Date.now() >= bakeEnds, "not before the bake ends");
  await waitUntil(async () => (await fleet.rollout()).nodes.filter((n) => n.state === "SYNCED").length === 3, { timeoutMs: 20_000, description: "the Envoys reconnect and are SYNCED" });
  assert.deepEqual(
    (await fleet.rollout()).nodes.map((n) => [n.nodeId, n.revision]).sort(),
    nodes.map((n) => [n, n === "edge-c" ? rollout.toRevision : rollout.fromRevision]),
  );
  assert.deepEqual(await dumps(fleet, ["edge-a", "edge-b"]), { "edge-a": before["edge-a"], "edge-b": before["edge-b"] }, "the others are still on the previous revision");
  assert.equal(await fleet.body("edge-c"), "served by service2\n");

  const promoted = await runCliProcess(["rollout", "promote"], { server: fleet.cp().adminUrl });
  assert.equal(promoted.code, 0, promoted.stderr);
  assert.match(promoted.stdout, new RegExp(`rollout ${rollout.id}: succeeded`));
  for (const n of nodes) await waitUntil(async () => (await fleet.body(n)) === "served by service2\n", { timeoutMs: 30_000, description: `${n} serves the change` });
});

test("rollout of a change Envoy accepts but that breaks traffic: the canary's 5xx share rises, it is rolled back within the bake, the others never fail", { timeout: 120_000 }, async (t) => {
  const fleet = await startFleet(t, "5xx", { metricsSink: true });
  const traffic = loops(t, fleet);
  for (const loop of traffic.values()) await loop.next((r) => r.status === 200);
  const before = await dumps(fleet, nodes);
  // Nothing listens there: Envoy accepts the change and answers 503 for every request it routes.
  const [deadPort] = await freePorts(1);
  const r = await fleet.apply([doc("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: deadPort }] })], "canary=10%25&bake=60s&ackTimeout=20s&max5xxIncrease=5%25&maxConnectFailIncrease=5%25&minRequests=20");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rollout = r.body.rollout as Rollout;
  const canary = rollout.canaryNodes[0] as Node;
  const canaryLoop = traffic.get(canary) as RequestLoop;
  const firstFailure = await canaryLoop.next((x) => x.status === 503);
  const failed = await waitUntil(async () => {
    const s = await fleet.rollout();
    return s.rollout?.state === "failed" ? s.rollout : undefined;
  }, { timeoutMs: 50_000, description: "the rollout fails on the canary's 5xx share" });
  t.diagnostic(`reason: ${failed.reason}`);
  // Both signals, from the names Envoy's metrics_service sink sends: downstream 5xx, and the new cluster's
  // upstream_cx_connect_fail over upstream_cx_total (every connection to the closed port is refused).
  assert.match(
    failed.reason ?? "",
    /^canary 5xx share \d+\.\d% \(\d+ of \d+ requests\) against 0\.0% \(0 of \d+\) on the proxies still on revision \d+: more than 5\.0% worse; canary upstream connect failure share 100\.0% \((\d+) of \1 connection attempts\) against 0\.0% \(0 of \d+\) on the proxies still on revision \d+: more than 5\.0% worse$/,
  );
  assert.ok(Date.parse(failed.endedAt ?? "") < Date.parse(failed.bakeEndsAt ?? ""), "rolled back within the bake");
  const recovered = await canaryLoop.next((x) => x.status === 200);
  await waitUntil(async () => JSON.stringify((await dumps(fleet, [canary]))[canary]) === JSON.stringify(before[canary]) || undefined, { timeoutMs: 10_000, description: "the canary is back on its previous versions" });
  const records = new Map(await Promise.all([...traffic].map(async ([n, l]) => [n, await l.stop()] as const)));
  const canaryFailures = failedRecords(records.get(canary) ?? []);
  t.diagnostic(`5xx case: first failed request on the canary -> first good one again: ${recovered.at - firstFailure.at} ms; requests failed on the canary meanwhile: ${canaryFailures.length}`);
  for (const n of nodes.filter((x) => x !== canary)) assert.deepEqual(failedRecords(records.get(n) ?? []), [], `no failed request through ${n}`);
  assert.deepEqual(await dumps(fleet, nodes.filter((x) => x !== canary)), Object.fromEntries(nodes.filter((x) => x !== canary).map((n) => [n, before[n]])), "the others never saw it");
});
