// Scenario 1 (docs/scenarios.md): the embedded library, the go-control-plane way.
// The example's resources (examples/embedded/demo-resources.ts) are put in a
// snapshot for node "xds-node-id"; a real Envoy boots from an xDS bootstrap and
// must route a request through listener_xds_demo to a local TLS upstream, with
// the Host rewritten and the SNI set. Run over ADS and over per-type streams.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { demoResources, DemoNames } from "../../examples/embedded/demo-resources.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpsUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";

const nodeId = "xds-node-id";

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`scenario 1 (${mode}): a request through Envoy reaches the local TLS upstream with the rewritten Host and the SNI`, async (t) => {
    const upstream = await startHttpsUpstream({ name: "xds-demo-upstream", hostname: "localhost", t });
    const xds = await startXdsServer({ t, ads: mode === "ads", controlPlaneId: "e2e-scenario-1" });
    const listenerPort = await freePort();
    const snapshot = createSnapshot({
      resources: demoResources({ upstreamHost: "localhost", upstreamPort: upstream.port, listenerAddress: "127.0.0.1", listenerPort, xdsMode: mode }),
    });
    await xds.cache.setSnapshot(nodeId, snapshot);

    const envoy = await startEnvoy({ name: `scenario1-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });

    // /ready is LIVE: the initial listeners and their routes are in place, so
    // the first request must already succeed (a short bounded wait covers the
    // worker picking up the listener).
    const res = await waitUntil(
      async () => {
        const r = await httpGet(`http://127.0.0.1:${listenerPort}/some/page`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000, description: "a 200 through listener_xds_demo" },
    );
    assert.equal(res.body, "served by xds-demo-upstream\n");
    const seen = upstream.requests.at(-1);
    assert.deepEqual(seen, { method: "GET", path: "/some/page", host: "localhost", sni: "localhost" });

    const dump = await envoy.configDump();
    const listener = dynamicListeners(dump).find((l) => l.name === DemoNames.listener);
    assert.ok(listener, "config_dump has the dynamic listener");
    assert.equal(listener.state, "active");
    assert.equal(listener.versionInfo, snapshot.typeVersion(TypeUrl.Listener));
    const cluster = dynamicClusters(dump).find((c) => c.name === DemoNames.cluster);
    assert.ok(cluster, "config_dump has the dynamic cluster");
    assert.equal(cluster.versionInfo, snapshot.typeVersion(TypeUrl.Cluster));
    assert.equal(cluster.config["type"], "STRICT_DNS");
    assert.equal(cluster.config["dns_lookup_family"], "V4_ONLY");
    assert.equal(cluster.config["connect_timeout"], "3s");
    assert.equal(((cluster.config["transport_socket"] as Record<string, unknown>)["typed_config"] as Record<string, unknown>)["sni"], "localhost");
    const route = dynamicRoutes(dump).find((r) => r.name === DemoNames.route);
    assert.ok(route, "config_dump has the route configuration");
    assert.equal(route.versionInfo, snapshot.typeVersion(TypeUrl.Route));

    // The library's status agrees: every type was ACKed at the snapshot's version, no NACK.
    const status = await waitUntil(
      () => {
        const s = xds.server.status.node(nodeId);
        const acked = (typeUrl: string) => s?.types.find((x) => x.typeUrl === typeUrl)?.ackedVersion === snapshot.typeVersion(typeUrl);
        return s && acked(TypeUrl.Cluster) && acked(TypeUrl.Listener) && acked(TypeUrl.Route) ? s : undefined;
      },
      { timeoutMs: 10_000, description: "status shows CDS, LDS and RDS ACKed" },
    );
    assert.equal(status.streams, mode === "ads" ? 1 : 3, "one ADS stream, or one stream each for CDS, LDS, RDS");
    assert.deepEqual(xds.events.nacks, []);
    assert.ok(xds.events.opens.every((o) => o.ads === (mode === "ads")));
  });
}
