// A NACK over Delta: Envoy rejects a route configuration (a regex RE2 cannot
// compile; protoc-gen-validate only asks for a non-empty string). The rejection
// must show in status and in the onNack hook, the rejected resource must not be
// resent in a loop, the last good config keeps serving, and a fix is sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { createSnapshot, TypeUrl, type Snapshot } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, deltaModes, edsCluster, httpListener, loadAssignment, startDeltaXds, type DeltaMode, type DeltaXdsFixture } from "./delta-setup.ts";

const nodeId = "delta-nack";
const cluster = "proxy_cluster";
/** How long the server is watched for a resend loop after the NACK. */
const QUIET_WINDOW_MS = 3000;

function badRoute() {
  return create(RouteConfigurationSchema, {
    name: "route_0",
    virtualHosts: [
      {
        name: "all",
        domains: ["*"],
        routes: [
          {
            match: { pathSpecifier: { case: "safeRegex", value: { regex: "/((" } } },
            action: { case: "route", value: { clusterSpecifier: { case: "cluster", value: cluster } } },
          },
        ],
      },
    ],
  });
}

function snapshot(mode: DeltaMode, listenerPort: number, route = makeRoute({ name: "route_0", cluster })): Snapshot {
  return createSnapshot({
    skipConsistencyCheck: true,
    resources: [edsCluster(cluster, mode), route, httpListener({ name: "listener_0", port: listenerPort, routeConfigName: "route_0", mode })],
  });
}

const routeStatus = (xds: DeltaXdsFixture) => xds.server.status.node(nodeId)?.types.find((s) => s.typeUrl === TypeUrl.Route);

for (const mode of deltaModes) {
  test(`NACK (${mode}): Envoy's rejection shows in status and hooks, is not looped, and the last good config keeps serving`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const xds = await startDeltaXds({ t });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    await xds.snapshots.setSnapshot(nodeId, snapshot(mode, listenerPort));
    await xds.endpoints.setResources([loadAssignment(cluster, [service1.port])]);
    await startEnvoy({ name: `delta-nack-${mode}`, t, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 5000, description: "a 200 through Envoy" });
    const good = await waitUntil(() => {
      const s = routeStatus(xds);
      return s?.ackedVersion !== undefined && s.ackedVersion === s.sentVersion ? s : undefined;
    }, { timeoutMs: 5000, description: "RDS ACKed" });

    const bad = snapshot(mode, listenerPort, badRoute());
    await xds.snapshots.setSnapshot(nodeId, bad);
    const nack = await waitUntil(() => xds.events.nacks.find((n) => n.typeUrl === TypeUrl.Route), { timeoutMs: 5000, description: "an onNack hook event for RDS" });
    t.diagnostic(`Envoy's NACK message over Delta: ${nack.message}`);
    assert.match(nack.message, /regex|missing \)/i);
    assert.equal(nack.nodeId, nodeId);
    const status = routeStatus(xds);
    assert.equal(status?.nacked, true);
    assert.equal(status?.lastNack?.message, nack.message);
    assert.equal(status?.lastNack?.version, bad.typeVersion(TypeUrl.Route), "status names the rejected (system) version");
    assert.equal(status?.ackedVersion, good.ackedVersion, "the last ACK stays the good one");

    // No loop: nothing more is sent for RDS while nothing changes.
    const responsesAtNack = xds.events.responses.filter((e) => e.typeUrl === TypeUrl.Route).length;
    const start = Date.now();
    while (Date.now() - start < QUIET_WINDOW_MS) {
      assert.equal((await httpGet(url)).status, 200, "the last good route keeps serving");
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(xds.events.responses.filter((e) => e.typeUrl === TypeUrl.Route).length, responsesAtNack, "the rejected route was not resent");
    assert.equal(xds.events.nacks.length, 1, "one NACK, not a storm");

    // A fixed route is sent and accepted.
    await xds.snapshots.setSnapshot(nodeId, snapshot(mode, listenerPort, makeRoute({ name: "route_0", cluster, hostRewrite: "fixed.example" })));
    await waitUntil(() => (routeStatus(xds)?.nacked === false && routeStatus(xds)?.ackedVersion === routeStatus(xds)?.sentVersion) || undefined, {
      timeoutMs: 5000,
      description: "the fixed route ACKed",
    });
  });
}
