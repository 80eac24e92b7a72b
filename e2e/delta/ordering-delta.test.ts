// Make before break over Delta ADS (docs/xds-protocol.md § Ordering): one change
// adds an EDS cluster c2, switches the route to it and removes c1. Routes are
// not warmed: if Envoy gets the route before c2's endpoints, requests fail with
// 503 "no cluster" (go-control-plane #526, #705, #800). The server must send
// c2, then c2's endpoints (once Envoy asks), then the route, and remove c1 last.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, edsCluster, httpListener, loadAssignment, shortType, startDeltaXds } from "./delta-setup.ts";

const nodeId = "delta-ordering";
const mode = "delta-ads";

// Three runs: the order is decided by the server, so it must hold every time, not by luck.
for (let run = 1; run <= 3; run++) {
  test(`ordering (delta-ads, run ${run}): c2 added, route switched to it, c1 removed: endpoints before route, removal last, no request fails`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const service2 = await startHttpUpstream({ name: "service2", t });
    const xds = await startDeltaXds({ t });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const listener = httpListener({ name: "l", port: listenerPort, routeConfigName: "r", mode });
    await xds.endpoints.setResources([loadAssignment("c1", [service1.port]), loadAssignment("c2", [service2.port])]);
    await xds.snapshots.setSnapshot(nodeId, createSnapshot({ skipConsistencyCheck: true, resources: [edsCluster("c1", mode), makeRoute({ name: "r", cluster: "c1" }), listener] }));
    const envoy = await startEnvoy({ name: `delta-ordering-${run}`, t, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 5000, description: "service1 answers" });

    const loop = startRequestLoop({ url, intervalMs: 2, maxRequests: 5000, maxDurationMs: 20_000 });
    t.after(() => loop.stop());
    for (let i = 0; i < 20; i++) await loop.next(() => true);
    const from = xds.events.responses.length;
    await xds.snapshots.setSnapshot(nodeId, createSnapshot({ skipConsistencyCheck: true, resources: [edsCluster("c2", mode), makeRoute({ name: "r", cluster: "c2" }), listener] }));
    await loop.next((r) => r.body === "served by service2\n");
    for (let i = 0; i < 50; i++) await loop.next(() => true);
    const records = await loop.stop();
    const responses = xds.events.responses.slice(from).map((e) => `${shortType(e.typeUrl)}[${e.resourceNames.join(",")}]-[${e.removedResources.join(",")}]`);
    const noCluster = (await envoy.stats("^http\\.http\\.no_cluster$")).get("http.http.no_cluster");
    t.diagnostic(`responses after the switch: ${responses.join(" → ")}; ${records.length} requests, router no_cluster ${noCluster}`);

    const eds = responses.indexOf("ClusterLoadAssignment[c2]-[]");
    const route = responses.indexOf("RouteConfiguration[r]-[]");
    const removal = responses.indexOf("Cluster[]-[c1]");
    assert.equal(responses[0], "Cluster[c2]-[]", "c2 is added first, c1 kept");
    assert.ok(eds > 0 && route > eds, "c2's endpoints go out before the route that uses c2");
    assert.ok(removal > route, "c1 is removed only after the route moved away from it");
    assert.deepEqual(failedRecords(records), [], "no request fails");
    assert.deepEqual(xds.events.nacks, []);
  });
}
