// Scenario 2 over Delta xDS: a steady request loop runs through a real Envoy
// (api_type DELTA_GRPC, ADS and per type) while the endpoints move from
// service1 to service2 through a linear cache behind a mux cache. Not one
// request may fail, and Envoy must receive exactly the changed resource.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { dynamicClusters, dynamicEndpoints, endpointAddresses } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, deltaModes, edsCluster, httpListener, loadAssignment, shortType, startDeltaXds } from "./delta-setup.ts";

const nodeId = "delta-scenario-2";
const cluster = "proxy_cluster";
const S1 = "served by service1\n";
const S2 = "served by service2\n";

for (const mode of deltaModes) {
  test(`scenario 2 (${mode}): an EDS change moves traffic to service2 with zero failed requests; only that resource is sent`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const service2 = await startHttpUpstream({ name: "service2", t });
    const xds = await startDeltaXds({ t });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    // Endpoints live in the linear cache, so the snapshot skips the EDS reference check.
    await xds.snapshots.setSnapshot(
      nodeId,
      createSnapshot({
        skipConsistencyCheck: true,
        resources: [edsCluster(cluster, mode), makeRoute({ name: "route_0", cluster }), httpListener({ name: "listener_0", port: listenerPort, routeConfigName: "route_0", mode })],
      }),
    );
    await xds.endpoints.setResources([loadAssignment(cluster, [service1.port])]);
    const envoy = await startEnvoy({ name: `delta-scenario2-${mode}`, t, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).body === S1, { timeoutMs: 5000, description: "service1 answers through Envoy" });
    assert.ok(xds.events.requests.length > 0 && xds.events.requests.every((r) => r.variant === "delta" && r.ads === (mode === "delta-ads")));

    const loop = startRequestLoop({ url, intervalMs: 5, maxRequests: 4000, maxDurationMs: 30_000 });
    t.after(() => loop.stop());
    for (let i = 0; i < 50; i++) await loop.next(() => true);
    // Every type was ACKed before the change: what follows is only the change.
    await waitUntil(() => xds.events.acks.filter((a) => a.typeUrl === TypeUrl.Endpoint).length > 0 || undefined, {
      timeoutMs: 5000,
      description: "EDS ACKed",
    });
    const responsesBefore = xds.events.responses.length;
    const bytesBefore = xds.server.deltaMetrics.bytesWritten;

    await xds.endpoints.updateResources({ upsert: [loadAssignment(cluster, [service2.port])] });
    await loop.next((r) => r.body === S2);
    for (let i = 0; i < 50; i++) await loop.next(() => true);
    const records = await loop.stop();

    assert.deepEqual(failedRecords(records), [], "no request failed while the endpoints changed");
    const firstS2 = records.findIndex((r) => r.body === S2);
    assert.ok(records.slice(firstS2).every((r) => r.body === S2), "once on service2, every answer came from service2");
    const changeResponses = xds.events.responses.slice(responsesBefore).map((e) => `${shortType(e.typeUrl)}:${e.resourceNames.join(",")}:-${e.removedResources.join(",")}`);
    assert.deepEqual(changeResponses, [`ClusterLoadAssignment:${cluster}:-`], "exactly the changed resource, nothing else resent");
    t.diagnostic(`${mode}: the change cost ${xds.server.deltaMetrics.bytesWritten - bytesBefore} bytes on the wire; ${records.length} requests, 0 failed`);

    const dump = await envoy.configDump({ includeEds: true });
    const cla = dynamicEndpoints(dump).find((e) => e.name === cluster);
    assert.deepEqual(endpointAddresses(cla?.config ?? {}), [`127.0.0.1:${service2.port}`]);
    // Over Delta, Envoy reports each cluster's own version: the content hash of its bytes.
    const dumpedCluster = dynamicClusters(dump).find((c) => c.name === cluster);
    assert.equal(dumpedCluster?.versionInfo, xds.snapshots.getSnapshot(nodeId)?.resources(TypeUrl.Cluster).get(cluster)?.version);
    assert.deepEqual(xds.events.nacks, []);
    assert.deepEqual(xds.events.hookErrors, []);
  });
}
