// A configuration Envoy rejects although it passes the library's own checks
// (docs/xds-protocol.md § ACK and NACK): a route whose regex RE2 cannot
// compile. Envoy NACKs it; the server must surface Envoy's message in status
// and in the onNack hook, must not resend the rejected config in a loop
// (go-control-plane #962, #46, #582, #564), and Envoy must keep serving the
// last good configuration. Then a valid snapshot is ACKed again.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { createSnapshot, TypeUrl, type Snapshot, type TypeStatus } from "@ts-control-plane/xds";
import { makeEndpoint, makeHttpListener, makeRoute } from "../../examples/embedded/demo-resources.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer, type XdsServerFixture } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { makeEdsCluster, ProxyNames, proxyResources } from "./proxy-resources.ts";

const nodeId = "nack-node";
/** How long the server is watched for a resend loop after the NACK. */
const QUIET_WINDOW_MS = 3000;

/** `/((` : RE2 fails with "missing )"; protoc-gen-validate only asks for a non-empty string. */
function routeWithInvalidRegex() {
  return create(RouteConfigurationSchema, {
    name: ProxyNames.route,
    virtualHosts: [
      {
        name: "local_service",
        domains: ["*"],
        routes: [
          {
            match: { pathSpecifier: { case: "safeRegex", value: { regex: "/((" } } },
            action: { case: "route", value: { clusterSpecifier: { case: "cluster", value: ProxyNames.cluster } } },
          },
        ],
      },
    ],
  });
}

/**
 * A STATIC cluster asking for the CLUSTER_PROVIDED load balancer: every field is
 * valid on its own (PGV passes), but Envoy refuses the combination.
 */
function clusterEnvoyRefuses(name: string, port: number) {
  return create(ClusterSchema, {
    name,
    connectTimeout: create(DurationSchema, { seconds: 1n }),
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.STATIC },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    loadAssignment: makeEndpoint(name, [{ host: "127.0.0.1", port }]),
  });
}

function typeStatus(xds: XdsServerFixture, typeUrl: string): TypeStatus | undefined {
  return xds.server.status.node(nodeId)?.types.find((s) => s.typeUrl === typeUrl);
}

function routeStatus(xds: XdsServerFixture): TypeStatus | undefined {
  return typeStatus(xds, TypeUrl.Route);
}

async function ackedRoute(xds: XdsServerFixture, snapshot: Snapshot): Promise<TypeStatus> {
  return waitUntil(() => {
    const s = routeStatus(xds);
    return s?.ackedVersion === snapshot.typeVersion(TypeUrl.Route) ? s : undefined;
  }, { timeoutMs: 10_000, description: `RDS ACKed at ${snapshot.typeVersion(TypeUrl.Route)}` });
}

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`NACK (${mode}): Envoy's rejection shows in status and hooks, nothing loops, and the last good config keeps serving`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const xds = await startXdsServer({ t, ads: mode === "ads" });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const good = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await xds.cache.setSnapshot(nodeId, good);
    const envoy = await startEnvoy({ name: `nack-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "service1 answers through Envoy" });
    await ackedRoute(xds, good);

    const loop = startRequestLoop({ url, intervalMs: 10, maxRequests: 2000, maxDurationMs: 30_000 });
    t.after(() => loop.stop());

    // The bad snapshot passes the library's checks: createSnapshot does not throw.
    const bad = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port], route: routeWithInvalidRegex() }) });
    const badVersion = bad.typeVersion(TypeUrl.Route);
    assert.notEqual(badVersion, good.typeVersion(TypeUrl.Route));
    await xds.cache.setSnapshot(nodeId, bad);

    const nack = await waitUntil(() => xds.events.nacks.find((n) => n.typeUrl === TypeUrl.Route), {
      timeoutMs: 10_000,
      description: "an onNack hook event for RDS",
      onTimeout: () => envoy.logs(30),
    });
    t.diagnostic(`Envoy's NACK message: ${nack.message}`);
    assert.match(nack.message, /regex|missing \)/i, "the hook carries Envoy's reason");
    assert.equal(nack.nodeId, nodeId);
    const status = routeStatus(xds);
    assert.ok(status?.lastNack, "status has the NACK");
    assert.equal(status.lastNack.version, badVersion, "status names the rejected version, not the one Envoy echoes");
    assert.equal(status.lastNack.message, nack.message);
    assert.equal(status.ackedVersion, good.typeVersion(TypeUrl.Route), "the acknowledged version stays the last good one");
    assert.equal(status.nacked, true);

    // No resend loop: over a few seconds, no more RDS responses and no more NACKs.
    const responsesAfterNack = status.responses;
    const nacksAfterNack = xds.events.nacks.length;
    const hookResponses = xds.events.responses.filter((r) => r.typeUrl === TypeUrl.Route).length;
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    const later = routeStatus(xds);
    t.diagnostic(
      `RDS responses: ${responsesAfterNack} at the NACK, ${later?.responses} after ${QUIET_WINDOW_MS} ms; NACKs: ${nacksAfterNack} then ${xds.events.nacks.length}`,
    );
    assert.equal(later?.responses, responsesAfterNack, "no RDS response was sent after the NACK");
    assert.equal(xds.events.nacks.length, nacksAfterNack, "no further NACK");
    assert.equal(xds.events.responses.filter((r) => r.typeUrl === TypeUrl.Route).length, hookResponses);

    // Envoy still serves the previous configuration.
    const res = await httpGet(url);
    assert.equal(res.status, 200);
    assert.equal(res.body, "served by service1\n");
    const dumped = dynamicRoutes(await envoy.configDump()).find((r) => r.name === ProxyNames.route);
    assert.equal(dumped?.versionInfo, good.typeVersion(TypeUrl.Route), "config_dump keeps the last good route version");
    assert.ok((await envoy.stats("update_rejected$")).get(`http.http.rds.${ProxyNames.route}.update_rejected`)! >= 1);

    // A valid change is sent and ACKed again; the NACK stays visible as history.
    const fixed = createSnapshot({
      resources: proxyResources({ mode, listenerPort, endpoints: [service1.port], route: makeRoute({ name: ProxyNames.route, cluster: ProxyNames.cluster, hostRewrite: "fixed" }) }),
    });
    await xds.cache.setSnapshot(nodeId, fixed);
    const recovered = await ackedRoute(xds, fixed);
    assert.equal(recovered.nacked, false);
    assert.equal(recovered.lastNack?.version, badVersion);
    await envoy.waitFor((d) => dynamicRoutes(d).find((r) => r.name === ProxyNames.route && r.versionInfo === fixed.typeVersion(TypeUrl.Route)), {
      timeoutMs: 10_000,
      description: "config_dump has the fixed route",
    });

    assert.equal((await httpGet(url)).status, 200);
    assert.equal(service1.requests.at(-1)?.host, "fixed", "the fixed route (host rewrite) is in force");

    const records = await loop.stop();
    t.diagnostic(`${records.length} requests during NACK and recovery, ${failedRecords(records).length} failed`);
    assert.deepEqual(failedRecords(records), [], "the NACK never disturbed traffic");
  });
}

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`NACK (${mode}): a CDS response with one cluster Envoy refuses; the valid new cluster is applied, the NACK names the bad one, nothing loops`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const service2 = await startHttpUpstream({ name: "service2", t });
    const xds = await startXdsServer({ t, ads: mode === "ads" });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const good = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await xds.cache.setSnapshot(nodeId, good);
    const envoy = await startEnvoy({ name: `nack-cds-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "service1 answers through Envoy" });

    // One new valid EDS cluster and one cluster Envoy refuses, in the same CDS response.
    const bad = createSnapshot({
      resources: [
        ...proxyResources({ mode, listenerPort, endpoints: [service1.port] }),
        makeEdsCluster("extra_ok", mode),
        makeEndpoint("extra_ok", [{ host: "127.0.0.1", port: service2.port }]),
        clusterEnvoyRefuses("extra_bad", service2.port),
      ],
    });
    await xds.cache.setSnapshot(nodeId, bad);
    const nack = await waitUntil(() => xds.events.nacks.find((n) => n.typeUrl === TypeUrl.Cluster), {
      timeoutMs: 10_000,
      description: "an onNack hook event for CDS",
      onTimeout: () => envoy.logs(30),
    });
    t.diagnostic(`Envoy's CDS NACK message: ${nack.message}`);
    assert.match(nack.message, /extra_bad/, "the message names the refused cluster");
    const status = typeStatus(xds, TypeUrl.Cluster);
    assert.equal(status?.lastNack?.version, bad.typeVersion(TypeUrl.Cluster));
    assert.equal(status?.ackedVersion, good.typeVersion(TypeUrl.Cluster));

    // Envoy applied the valid cluster of the rejected response (and fetched its endpoints).
    const dump = await envoy.waitFor((d) => (dynamicClusters(d).some((c) => c.name === "extra_ok") ? d : undefined), {
      timeoutMs: 10_000,
      description: "extra_ok active in config_dump",
    });
    assert.ok(!dynamicClusters(dump).some((c) => c.name === "extra_bad"));
    await waitUntil(async () => (await envoy.stats("^cluster\\.extra_ok\\.membership_healthy$")).get("cluster.extra_ok.membership_healthy") === 1, {
      timeoutMs: 10_000,
      description: "extra_ok has its endpoint from EDS",
    });

    const responses = status?.responses;
    const nacks = xds.events.nacks.length;
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    t.diagnostic(`CDS responses: ${responses} at the NACK, ${typeStatus(xds, TypeUrl.Cluster)?.responses} after ${QUIET_WINDOW_MS} ms`);
    assert.equal(typeStatus(xds, TypeUrl.Cluster)?.responses, responses, "no CDS resend after the NACK");
    assert.equal(xds.events.nacks.length, nacks, "no further NACK");
    assert.equal((await httpGet(url)).body, "served by service1\n", "traffic is unaffected");
  });
}

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`NACK (${mode}): a listener Envoy cannot bind shows as an LDS NACK and in config_dump's error_state; the other listener keeps serving`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const xds = await startXdsServer({ t, ads: mode === "ads" });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const good = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await xds.cache.setSnapshot(nodeId, good);
    const envoy = await startEnvoy({ name: `nack-lds-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "service1 answers through Envoy" });

    // A second listener on the port service1 already holds (without SO_REUSEPORT): valid config, unbindable.
    const taken = makeHttpListener({ name: "listener_taken", address: "127.0.0.1", port: service1.port, routeConfigName: ProxyNames.route, xdsMode: mode });
    const bad = createSnapshot({ resources: [...proxyResources({ mode, listenerPort, endpoints: [service1.port] }), taken] });
    await xds.cache.setSnapshot(nodeId, bad);
    const nack = await waitUntil(() => xds.events.nacks.find((n) => n.typeUrl === TypeUrl.Listener), {
      timeoutMs: 10_000,
      description: "an onNack hook event for LDS",
      onTimeout: () => envoy.logs(30),
    });
    t.diagnostic(`Envoy's LDS NACK message: ${nack.message}`);
    assert.match(nack.message, /listener_taken/);
    assert.equal(typeStatus(xds, TypeUrl.Listener)?.lastNack?.version, bad.typeVersion(TypeUrl.Listener));
    const failed = await envoy.waitFor((d) => dynamicListeners(d).find((l) => l.name === "listener_taken" && l.errorState !== undefined), {
      timeoutMs: 10_000,
      description: "listener_taken with an error_state in config_dump",
    });
    t.diagnostic(`config_dump error_state.details: ${String(failed.errorState?.["details"])}`);
    assert.equal(failed.state, "failed");
    assert.equal((await httpGet(url)).body, "served by service1\n", "the existing listener keeps serving");
  });
}
