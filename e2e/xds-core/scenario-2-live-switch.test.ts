// Scenario 2 (docs/scenarios.md): change where traffic goes, live, through the
// library API. A steady request loop runs through Envoy while new snapshots
// move the traffic; not one request may fail, Envoy is never restarted, and
// /config_dump shows the new version. Run over ADS and over per-type streams.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { makeEndpoint } from "../../examples/embedded/demo-resources.ts";
import { dynamicClusters, dynamicEndpoints, endpointAddresses } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop, type LoopRecord } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { ProxyNames, proxyResources } from "./proxy-resources.ts";

const nodeId = "scenario-2-node";
const S1 = "served by service1\n";
const S2 = "served by service2\n";
/** Requests the loop must complete after each change before the next one: the traffic a change has to survive. */
const SETTLE = 100;

async function setup(t: import("node:test").TestContext, mode: XdsMode) {
  const service1 = await startHttpUpstream({ name: "service1", t });
  const service2 = await startHttpUpstream({ name: "service2", t });
  const xds = await startXdsServer({ t, ads: mode === "ads" });
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  return { service1, service2, xds, listenerPort, url };
}

/** The records after the first one matching `from`, up to `count` of them. */
function after(records: readonly LoopRecord[], from: (r: LoopRecord) => boolean, count: number): LoopRecord[] {
  const i = records.findIndex(from);
  return i < 0 ? [] : records.slice(i, i + count);
}

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`scenario 2 (${mode}): an EDS change moves traffic from service1 to service2 with zero failed requests, then round robin alternates`, async (t) => {
    const { service1, service2, xds, listenerPort, url } = await setup(t, mode);
    const v1 = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await xds.cache.setSnapshot(nodeId, v1);
    const envoy = await startEnvoy({ name: `scenario2-eds-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    const startedAt = Date.now();
    await waitUntil(async () => (await httpGet(url)).body === S1, { timeoutMs: 10_000, description: "service1 answers through Envoy" });

    const loop = startRequestLoop({ url, intervalMs: 5, maxRequests: 4000, maxDurationMs: 30_000 });
    t.after(() => loop.stop());
    await loop.next(() => true);

    const v2 = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service2.port] }) });
    assert.notEqual(v2.typeVersion(TypeUrl.Endpoint), v1.typeVersion(TypeUrl.Endpoint));
    assert.equal(v2.typeVersion(TypeUrl.Cluster), v1.typeVersion(TypeUrl.Cluster), "only the endpoints changed");
    const switchAt = Date.now();
    await xds.cache.setSnapshot(nodeId, v2);
    const firstOnService2 = await loop.next((r) => r.body === S2);
    t.diagnostic(`first answer from service2 ${firstOnService2.at - switchAt} ms after setSnapshot`);
    for (let i = 0; i < SETTLE; i++) await loop.next(() => true);

    // Two endpoints, round robin, one Envoy worker: consecutive requests alternate.
    const v3 = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port, service2.port] }) });
    await xds.cache.setSnapshot(nodeId, v3);
    await loop.next((r) => r.body === S1);
    for (let i = 0; i < SETTLE; i++) await loop.next(() => true);
    const records = await loop.stop();

    t.diagnostic(`${records.length} requests through Envoy during the changes, ${failedRecords(records).length} failed`);
    assert.deepEqual(failedRecords(records), [], "no request failed while the endpoints changed");
    const afterSwitch = after(records, (r) => r.body === S2, Number.POSITIVE_INFINITY);
    const beforeV3 = afterSwitch.slice(0, afterSwitch.findIndex((r) => r.body === S1));
    assert.ok(beforeV3.length >= SETTLE && beforeV3.every((r) => r.body === S2), "once on service2, every answer came from service2 until v3");
    const alternating = after(records, (r) => r.body === S1 && records.indexOf(r) > records.indexOf(beforeV3.at(-1)!), 20).map((r) => r.body);
    assert.equal(alternating.length, 20);
    for (let i = 1; i < alternating.length; i++) assert.notEqual(alternating[i], alternating[i - 1], `answers alternate: ${alternating.join("|")}`);
    assert.ok(service1.requests.length > 0 && service2.requests.length > 0);

    const dump = await envoy.configDump({ includeEds: true });
    const cla = dynamicEndpoints(dump).find((e) => e.name === ProxyNames.cluster);
    assert.ok(cla, "config_dump has the load assignment");
    // Envoy's config_dump carries no version for EDS; the subscription's version_text readout does.
    const edsVersion = await envoy.textStats(`^cluster\\.${ProxyNames.cluster}\\.version_text$`);
    assert.equal(edsVersion.get(`cluster.${ProxyNames.cluster}.version_text`), v3.typeVersion(TypeUrl.Endpoint));
    assert.deepEqual(endpointAddresses(cla.config).sort(), [`127.0.0.1:${service1.port}`, `127.0.0.1:${service2.port}`].sort());

    // Envoy was never restarted: same process, uptime covers the whole test, listener never re-created.
    assert.ok(envoy.running());
    const uptime = Number((await envoy.serverInfo())["uptime_current_epoch"]?.toString().replace(/s$/, ""));
    assert.ok(uptime >= Math.floor((Date.now() - startedAt) / 1000), `uptime ${uptime}s covers the test`);
    const stats = await envoy.stats("^listener_manager\\.listener_(added|modified|removed)$");
    assert.deepEqual(Object.fromEntries(stats), {
      "listener_manager.listener_added": 1,
      "listener_manager.listener_modified": 0,
      "listener_manager.listener_removed": 0,
    });
    assert.deepEqual(xds.events.nacks, []);
  });

  test(`scenario 2 (${mode}): a CDS change (inline endpoints) and back to EDS, with zero failed requests; EDS is resent when asked again`, async (t) => {
    const { service1, service2, xds, listenerPort, url } = await setup(t, mode);
    const eds2 = proxyResources({ mode, listenerPort, endpoints: [service2.port] });
    const v1 = createSnapshot({ resources: eds2 });
    await xds.cache.setSnapshot(nodeId, v1);
    const envoy = await startEnvoy({ name: `scenario2-cds-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).body === S2, { timeoutMs: 10_000, description: "service2 answers through Envoy" });

    const loop = startRequestLoop({ url, intervalMs: 5, maxRequests: 4000, maxDurationMs: 30_000 });
    t.after(() => loop.stop());
    await loop.next(() => true);

    // The cluster itself now carries its endpoint (service1) inline: a CDS change.
    // The same ClusterLoadAssignment stays in the snapshot, unused, so that when
    // the cluster goes back to EDS its bytes and version are unchanged: Envoy
    // asks for the name again and must get it again (go-control-plane #431, #583).
    const unusedCla = makeEndpoint(ProxyNames.cluster, [{ host: "127.0.0.1", port: service2.port }]);
    const v2 = createSnapshot({
      resources: proxyResources({ mode, listenerPort, endpoints: [service1.port], clusterKind: "static", extra: [unusedCla] }),
    });
    await xds.cache.setSnapshot(nodeId, v2);
    await loop.next((r) => r.body === S1);
    await envoy.waitFor((d) => dynamicClusters(d).find((c) => c.name === ProxyNames.cluster && c.versionInfo === v2.typeVersion(TypeUrl.Cluster)), {
      timeoutMs: 10_000,
      description: "the static cluster version in config_dump",
    });
    for (let i = 0; i < SETTLE; i++) await loop.next(() => true);

    const v3 = createSnapshot({ resources: eds2 });
    assert.equal(v3.typeVersion(TypeUrl.Endpoint), v1.typeVersion(TypeUrl.Endpoint));
    await xds.cache.setSnapshot(nodeId, v3);
    await loop.next((r) => r.body === S2);
    for (let i = 0; i < SETTLE; i++) await loop.next(() => true);
    const records = await loop.stop();

    t.diagnostic(`${records.length} requests through Envoy during the changes, ${failedRecords(records).length} failed`);
    assert.deepEqual(failedRecords(records), [], "no request failed while the cluster changed");
    const tail = after(records, (r) => records.indexOf(r) > 0 && r.body === S2 && records[records.indexOf(r) - 1]?.body === S1, Number.POSITIVE_INFINITY);
    assert.ok(tail.length >= SETTLE && tail.every((r) => r.body === S2), "back on EDS, every answer comes from service2");
    const dump = await envoy.configDump({ includeEds: true });
    assert.equal(dynamicClusters(dump).find((c) => c.name === ProxyNames.cluster)?.config["type"], "EDS");
    assert.deepEqual(endpointAddresses(dynamicEndpoints(dump).find((e) => e.name === ProxyNames.cluster)?.config ?? {}), [`127.0.0.1:${service2.port}`]);
    assert.deepEqual(xds.events.nacks, []);
  });
}
