// Issue 9 against a real Envoy: GET /metrics before and after a change and
// after an Envoy NACK. The counters of the types the change touched, and the
// convergence histogram (from the change on the cache to Envoy's ACK), move
// by exactly one per type; the others do not move; a NACK moves the NACK
// counter and never the histogram.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { PrometheusScrape as Scrape } from "../harness/prometheus-text.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { startControlPlane } from "./control-plane-process.ts";

const object = (kind: string, name: string, spec: Json) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });

const CLUSTER = "envoy.config.cluster.v3.Cluster";
const ENDPOINTS = "envoy.config.endpoint.v3.ClusterLoadAssignment";
const LISTENER = "envoy.config.listener.v3.Listener";
const ROUTE = "envoy.config.route.v3.RouteConfiguration";
const types = [CLUSTER, ENDPOINTS, LISTENER, ROUTE];

for (const mode of ["sotw", "delta"] as const) {
  test(`/metrics moves by the expected amounts on a change and on an Envoy NACK (${mode})`, { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-e2e-metrics-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const [one, two] = [await startHttpUpstream({ name: "one", t }), await startHttpUpstream({ name: "two", t })];
    const httpPort = await freePort();
    const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
    const server = cp.adminUrl;
    const apply = async (objects: readonly Json[]) => {
      const r = await fetch(`${server}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
      assert.equal(r.status, 200, await r.clone().text());
    };
    const scrape = async (): Promise<Scrape> => {
      const r = await fetch(`${server}/metrics`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      return new Scrape(await r.text());
    };
    await apply([
      object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: one.port }] }),
      object("Listener", "web", { protocol: "HTTP", address: "127.0.0.1", port: httpPort }),
      object("Route", "all", { listeners: ["web"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
    ]);
    const bootstrap =
      mode === "sotw"
        ? (xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json)
        : (parse(await (await fetch(`${server}/api/v1/bootstrap?node=edge-1&delta=true&adminPort=0`)).text()) as Json);
    const envoy = await startEnvoy({ bootstrap, name: `cp-metrics-${mode}`, t });
    await waitUntil(async () => (await httpGet(`http://127.0.0.1:${httpPort}/`)).body === "served by one\n", { timeoutMs: 15_000, description: "Envoy routes to one" });
    // Every type ACKed once at connect: the first responses are subscriptions, not changes.
    const before = await waitUntil(async () => {
      const s = await scrape();
      return types.every((type) => s.get("tcp_xds_acks_total", { type }) >= 1) ? s : undefined;
    }, { timeoutMs: 10_000, description: "every type ACKed" });
    // No NodeGroup objects: every proxy is in the built-in group, the stream's cache key.
    const statusReport = (await (await fetch(`${server}/api/v1/status`)).json()) as { nodes: { nodeId: string; group: string }[] };
    const group = statusReport.nodes.find((n) => n.nodeId === "edge-1")?.group ?? "";
    assert.notEqual(group, "");
    assert.equal(before.get("tcp_xds_connected_proxies", { variant: mode, group }), 1);
    assert.equal(before.get("tcp_xds_acks_total", { group }), before.get("tcp_xds_acks_total"), "every ACK is labelled with the proxy's node group");
    assert.equal(before.get("tcp_xds_stream_opens_total", { variant: mode }), 1);
    assert.equal(before.get("tcp_xds_stream_errors_total"), 0);
    assert.equal(before.get("tcp_xds_convergence_seconds_count"), 0, "no change yet: nothing converged");
    assert.equal(before.get("tcp_store_revision"), 1);
    assert.equal(before.get("tcp_cache_revision"), 1);
    assert.equal(before.get("tcp_reconcile_queue_depth"), 0);

    // A change of the service's endpoint: only the endpoints change for Envoy.
    await apply([object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: two.port }] })]);
    await waitUntil(async () => (await httpGet(`http://127.0.0.1:${httpPort}/`)).body === "served by two\n", { timeoutMs: 15_000, description: "Envoy routes to two" });
    const changed = await waitUntil(async () => {
      const s = await scrape();
      return s.get("tcp_xds_convergence_seconds_count", { type: ENDPOINTS }) >= 1 ? s : undefined;
    }, { timeoutMs: 10_000, description: "the endpoints' ACK timed", onTimeout: () => envoy.logs(30) });
    const delta = (name: string, a: Scrape, b: Scrape) => Object.fromEntries(types.map((type) => [type, b.get(name, { type }) - a.get(name, { type })]));
    const onlyEndpoints = { [CLUSTER]: 0, [ENDPOINTS]: 1, [LISTENER]: 0, [ROUTE]: 0 };
    assert.deepEqual(delta("tcp_xds_responses_total", before, changed), onlyEndpoints);
    assert.deepEqual(delta("tcp_xds_acks_total", before, changed), onlyEndpoints);
    assert.deepEqual(delta("tcp_xds_convergence_seconds_count", before, changed), onlyEndpoints);
    assert.deepEqual(delta("tcp_xds_resources_sent_total", before, changed), onlyEndpoints);
    assert.deepEqual(delta("tcp_xds_nacks_total", before, changed), { [CLUSTER]: 0, [ENDPOINTS]: 0, [LISTENER]: 0, [ROUTE]: 0 });
    assert.ok((delta("tcp_xds_response_bytes_total", before, changed)[ENDPOINTS] ?? 0) > 0, "endpoint bytes sent");
    const seconds = changed.get("tcp_xds_convergence_seconds_sum", { type: ENDPOINTS });
    t.diagnostic(`convergence of the endpoint change: ${(seconds * 1000).toFixed(1)} ms`);
    assert.ok(seconds > 0 && seconds < 10, `convergence ${seconds}s`);
    assert.equal(changed.get("tcp_revisions_total") - before.get("tcp_revisions_total"), 1);
    assert.equal(changed.get("tcp_store_revision"), 2);
    assert.equal(changed.get("tcp_cache_revision"), 2);
    assert.ok(changed.get("tcp_compile_duration_seconds_count") > before.get("tcp_compile_duration_seconds_count"));
    assert.equal(changed.get("tcp_store_commit_duration_seconds_count") - before.get("tcp_store_commit_duration_seconds_count"), 1);

    // A listener on a port another process holds: valid configuration, Envoy NACKs it.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
    t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const heldPort = (holder.address() as { port: number }).port;
    await apply([object("Listener", "tcp_busy", { protocol: "TCP", address: "127.0.0.1", port: heldPort, service: "backend" })]);
    const nacked = await waitUntil(async () => {
      const s = await scrape();
      return s.get("tcp_xds_nacks_total", { type: LISTENER }) >= 1 ? s : undefined;
    }, { timeoutMs: 10_000, description: "the listener NACKed", onTimeout: () => envoy.logs(30) });
    assert.deepEqual(delta("tcp_xds_nacks_total", changed, nacked), { [CLUSTER]: 0, [ENDPOINTS]: 0, [LISTENER]: 1, [ROUTE]: 0 });
    assert.equal(delta("tcp_xds_acks_total", changed, nacked)[LISTENER], 0);
    assert.deepEqual(delta("tcp_xds_convergence_seconds_count", changed, nacked), { [CLUSTER]: 0, [ENDPOINTS]: 0, [LISTENER]: 0, [ROUTE]: 0 });
    assert.equal(nacked.get("tcp_xds_connected_proxies", { variant: mode }), 1, "a NACK keeps the stream");
    assert.equal(nacked.get("tcp_xds_stream_closes_total"), 0);
  });
}
