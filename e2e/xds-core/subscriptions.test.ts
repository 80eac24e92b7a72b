// Subscriptions with a real Envoy (docs/xds-protocol.md § Subscriptions): Envoy asks
// for RDS and EDS names as listeners and clusters reference them. When a new
// name is requested whose resource was already in the snapshot, the type's
// version has not changed, yet the server must answer (go-control-plane #431,
// #245, #583): a server that only compares versions leaves the new listener
// or cluster warming until Envoy's initial-fetch timeout. Removing a listener or
// cluster from the snapshot removes it from Envoy (LDS/CDS are full-state).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { makeEndpoint, makeHttpListener, makeRoute } from "../../examples/embedded/demo-resources.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePorts } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { makeEdsCluster } from "./proxy-resources.ts";

const nodeId = "subscriptions-node";

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`subscriptions (${mode}): newly requested RDS/EDS names are answered though their type version did not change; removals reach Envoy`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const service2 = await startHttpUpstream({ name: "service2", t });
    const xds = await startXdsServer({ t, ads: mode === "ads" });
    const [port1, port2] = await freePorts(2);
    const url1 = `http://127.0.0.1:${port1}/`;
    const url2 = `http://127.0.0.1:${port2}/`;

    // Both route configurations and both load assignments are in every snapshot;
    // only what references them changes, so the RDS and EDS type versions never move.
    const shared = [
      makeEndpoint("c1", [{ host: "127.0.0.1", port: service1.port }]),
      makeEndpoint("c2", [{ host: "127.0.0.1", port: service2.port }]),
      makeRoute({ name: "r1", cluster: "c1", hostRewrite: "via-r1" }),
      makeRoute({ name: "r2", cluster: "c2", hostRewrite: "via-r2" }),
    ];
    const listener = (name: string, port: number, route: string) => makeHttpListener({ name, address: "127.0.0.1", port, routeConfigName: route, xdsMode: mode });

    const v1 = createSnapshot({ resources: [...shared, makeEdsCluster("c1", mode), listener("l1", port1!, "r1")] });
    await xds.cache.setSnapshot(nodeId, v1);
    const envoy = await startEnvoy({ name: `subscriptions-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url1)).body === "served by service1\n", { timeoutMs: 10_000, description: "l1 → r1 → c1 → service1" });

    // v2: a second listener on r2 and a second cluster c2. Envoy never asked for
    // r2 or c2's endpoints, so it never got them; now it asks, at unchanged versions.
    const v2 = createSnapshot({ resources: [...shared, makeEdsCluster("c1", mode), makeEdsCluster("c2", mode), listener("l1", port1!, "r1"), listener("l2", port2!, "r2")] });
    assert.equal(v2.typeVersion(TypeUrl.Route), v1.typeVersion(TypeUrl.Route));
    assert.equal(v2.typeVersion(TypeUrl.Endpoint), v1.typeVersion(TypeUrl.Endpoint));
    const changedAt = Date.now();
    await xds.cache.setSnapshot(nodeId, v2);
    // Well under Envoy's 15 s initial fetch timeout: a server that stayed silent fails here.
    await waitUntil(
      async () => {
        const r = await httpGet(url2);
        return r.status === 200 && r.body === "served by service2\n";
      },
      { timeoutMs: 8000, description: "l2 → r2 → c2 → service2 (Envoy got r2 and c2's endpoints)", onTimeout: () => envoy.logs(20) },
    );
    t.diagnostic(`new listener and cluster served ${Date.now() - changedAt} ms after setSnapshot`);
    assert.equal(service2.requests.at(-1)?.host, "via-r2");
    assert.equal((await httpGet(url1)).body, "served by service1\n");

    // v3: l2 and c2 are gone (full-state types), r2 is no longer referenced.
    const v3 = createSnapshot({ resources: [...shared, makeEdsCluster("c1", mode), listener("l1", port1!, "r1")] });
    await xds.cache.setSnapshot(nodeId, v3);
    const dump = await envoy.waitFor(
      (d) => (dynamicListeners(d).some((l) => l.name === "l2") || dynamicClusters(d).some((c) => c.name === "c2") ? undefined : d),
      { timeoutMs: 10_000, description: "l2 and c2 removed from config_dump" },
    );
    assert.deepEqual(dynamicListeners(dump).map((l) => l.name), ["l1"]);
    assert.deepEqual(dynamicClusters(dump).map((c) => c.name), ["c1"]);
    assert.ok(dynamicRoutes(dump).some((r) => r.name === "r1"));
    await waitUntil(async () => httpGet(url2, { timeoutMs: 1000 }).then(() => false, () => true), { timeoutMs: 10_000, description: "l2's port closed" });
    assert.equal((await httpGet(url1)).body, "served by service1\n");
    assert.deepEqual(xds.events.nacks, []);
  });
}
