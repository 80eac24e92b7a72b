// Reconnect over Delta: the control plane restarts (a new server on the same
// port, serving the same caches) under a running Envoy. Envoy reconnects with
// initial_resource_versions naming what it holds, so nothing unchanged is
// resent, and not one request fails meanwhile. A fresh Envoy process, by
// contrast, holds nothing and is sent everything.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, deltaModes, edsCluster, httpListener, loadAssignment, shortType, startDeltaXds, type DeltaXdsFixture } from "./delta-setup.ts";

const nodeId = "delta-reconnect";
const cluster = "proxy_cluster";
const S1 = "served by service1\n";
const S2 = "served by service2\n";
const types = [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route];

function allAcked(xds: DeltaXdsFixture, which: readonly string[] = types): boolean {
  const s = xds.server.status.node(nodeId);
  return which.every((typeUrl) => {
    const ts = s?.types.find((x) => x.typeUrl === typeUrl);
    return ts?.ackedVersion !== undefined && ts.ackedVersion === ts.sentVersion && !ts.nacked;
  });
}

const sentNames = (xds: DeltaXdsFixture, from = 0): string[] =>
  xds.events.responses.slice(from).flatMap((e) => e.resourceNames.map((n) => `${shortType(e.typeUrl)}/${n}`));

for (const mode of deltaModes) {
  test(`reconnect (${mode}): after a control-plane restart Envoy sends initial_resource_versions and nothing unchanged is resent`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const service2 = await startHttpUpstream({ name: "service2", t });
    const first = await startDeltaXds({ t });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const snapshot = createSnapshot({
      skipConsistencyCheck: true,
      resources: [edsCluster(cluster, mode), makeRoute({ name: "route_0", cluster }), httpListener({ name: "listener_0", port: listenerPort, routeConfigName: "route_0", mode })],
    });
    await first.snapshots.setSnapshot(nodeId, snapshot);
    await first.endpoints.setResources([loadAssignment(cluster, [service1.port])]);
    const envoy = await startEnvoy({ name: `delta-reconnect-${mode}`, t, bootstrap: deltaBootstrap({ xdsPort: first.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).body === S1, { timeoutMs: 5000, description: "service1 answers through Envoy" });
    await waitUntil(() => allAcked(first), { timeoutMs: 5000, description: "CDS, EDS, LDS, RDS ACKed" });

    const loop = startRequestLoop({ url, intervalMs: 10, maxRequests: 3000, maxDurationMs: 40_000 });
    t.after(() => loop.stop());
    await loop.next(() => true);

    // The control plane goes away and comes back on the same port with the same content.
    await first.close();
    const second = await startDeltaXds({ t, port: first.port, caches: { snapshots: first.snapshots, endpoints: first.endpoints } });
    const held = (typeUrl: string, name: string): string =>
      (typeUrl === TypeUrl.Endpoint ? first.endpoints.resources().get(name)?.version : snapshot.resources(typeUrl).get(name)?.version) ?? "";
    const expected = new Map<string, Record<string, string>>([
      [TypeUrl.Cluster, { [cluster]: held(TypeUrl.Cluster, cluster) }],
      [TypeUrl.Endpoint, { [cluster]: held(TypeUrl.Endpoint, cluster) }],
      [TypeUrl.Listener, { listener_0: held(TypeUrl.Listener, "listener_0") }],
      [TypeUrl.Route, { route_0: held(TypeUrl.Route, "route_0") }],
    ]);
    const firstRequests = await waitUntil(
      () => {
        const byType = new Map(types.map((typeUrl) => [typeUrl, second.events.requests.find((r) => r.typeUrl === typeUrl)]));
        return [...byType.values()].every((r) => r !== undefined) ? byType : undefined;
      },
      { timeoutMs: 20_000, description: "Envoy reconnected and re-subscribed to every type" },
    );
    for (const [typeUrl, r] of firstRequests) {
      assert.deepEqual(r?.initialResourceVersions, expected.get(typeUrl), `${shortType(typeUrl)}: initial_resource_versions names what Envoy holds`);
    }
    // Only the wildcard types (CDS, LDS) get a response, an empty one that lets
    // Envoy finish its init; EDS and RDS have nothing to say and say nothing.
    await waitUntil(() => allAcked(second, [TypeUrl.Cluster, TypeUrl.Listener]), { timeoutMs: 5000, description: "CDS and LDS settled on the new server" });
    for (let i = 0; i < 20; i++) await loop.next(() => true);
    assert.deepEqual(sentNames(second), [], "no unchanged resource was resent after the reconnect");
    t.diagnostic(
      `${mode}: new server sent ${second.events.responses.length} response(s) (${second.events.responses.map((e) => shortType(e.typeUrl)).join(", ")}), ${second.server.deltaMetrics.bytesWritten} bytes, 0 resources`,
    );

    // The new stream is live: a change still flows, and only the change.
    await second.endpoints.updateResources({ upsert: [loadAssignment(cluster, [service2.port])] });
    await loop.next((r) => r.body === S2);
    const records = await loop.stop();
    assert.deepEqual(failedRecords(records), [], "no request failed while the control plane restarted");
    assert.deepEqual(sentNames(second), [`ClusterLoadAssignment/${cluster}`]);
    assert.deepEqual([...first.events.nacks, ...second.events.nacks], []);

    // A fresh Envoy process holds nothing: it says so, and gets everything.
    await envoy.stop();
    const requestsBefore = second.events.requests.length;
    const responsesBefore = second.events.responses.length;
    const fresh = await startEnvoy({ name: `delta-reconnect-fresh-${mode}`, t, bootstrap: deltaBootstrap({ xdsPort: second.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).body === S2, { timeoutMs: 5000, description: "service2 answers through the fresh Envoy" });
    assert.ok(fresh.running());
    const freshRequests = second.events.requests.slice(requestsBefore);
    assert.ok(freshRequests.length >= 4);
    assert.ok(freshRequests.every((r) => Object.keys(r.initialResourceVersions).length === 0), "a fresh Envoy sends no initial_resource_versions");
    assert.deepEqual(sentNames(second, responsesBefore).sort(), [
      `Cluster/${cluster}`,
      `ClusterLoadAssignment/${cluster}`,
      "Listener/listener_0",
      "RouteConfiguration/route_0",
    ]);
  });
}
