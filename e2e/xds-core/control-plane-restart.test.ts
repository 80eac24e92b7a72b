// Scenario 6, third bullet (docs/scenarios.md): the control plane restarts. Envoy
// keeps serving its last configuration while no control plane answers (no TTL:
// Envoy keeps config forever), reconnects to the new process on the same port,
// and converges to the new process's snapshot, without one request failing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { proxyResources } from "./proxy-resources.ts";

const nodeId = "restart-node";

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`control plane restart (${mode}): Envoy keeps serving, reconnects, and converges to the new snapshot with zero failed requests`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const service2 = await startHttpUpstream({ name: "service2", t });
    const first = await startXdsServer({ t, ads: mode === "ads" });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const v1 = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await first.cache.setSnapshot(nodeId, v1);
    const envoy = await startEnvoy({ name: `restart-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: first.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 10_000, description: "service1 answers" });

    const loop = startRequestLoop({ url, intervalMs: 10, maxRequests: 5000, maxDurationMs: 45_000 });
    t.after(() => loop.stop());
    // ADS has one `control_plane.connected_state` gauge; per-type streams have one per
    // subscription (`cluster_manager.cds.control_plane.connected_state`, ...).
    const connected = async (): Promise<0 | 1 | "mixed"> => {
      const states = [...(await envoy.stats("control_plane\\.connected_state$")).values()];
      assert.ok(states.length > 0, "Envoy reports its xDS connection state");
      return states.every((s) => s === 1) ? 1 : states.every((s) => s === 0) ? 0 : "mixed";
    };

    // The control plane goes away. Envoy notices, and keeps serving what it has.
    await first.close();
    await waitUntil(async () => (await connected()) === 0, { timeoutMs: 10_000, description: "Envoy to see the control plane gone" });
    for (let i = 0; i < 50; i++) await loop.next(() => true);

    // A new process on the same address, first with the same configuration (as a
    // restarted replica has): content-hash versions are equal, so Envoy's
    // reconnect requests carry the version the new process would send.
    const second = await startXdsServer({ t, ads: mode === "ads", port: first.port });
    await second.cache.setSnapshot(nodeId, createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) }));
    const restartedAt = Date.now();
    // Envoy retries the xDS stream with a jittered backoff (500 ms base); bounded generously.
    await waitUntil(async () => (await connected()) === 1 && second.server.status.node(nodeId)?.streams === (mode === "ads" ? 1 : 4), {
      timeoutMs: 20_000,
      description: "Envoy to reconnect every stream to the new control plane",
    });
    t.diagnostic(`Envoy reconnected ${Date.now() - restartedAt} ms after the new control plane started`);
    for (let i = 0; i < 20; i++) await loop.next(() => true);

    // Then a change on the new process reaches Envoy.
    const v2 = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service2.port] }) });
    const changedAt = Date.now();
    await second.cache.setSnapshot(nodeId, v2);
    await loop.next((r) => r.body === "served by service2\n");
    t.diagnostic(`the new control plane's change reached Envoy's traffic in ${Date.now() - changedAt} ms`);
    await waitUntil(
      () => {
        const s = second.server.status.node(nodeId);
        const acked = (typeUrl: string) => s?.types.find((x) => x.typeUrl === typeUrl)?.ackedVersion === v2.typeVersion(typeUrl);
        return acked(TypeUrl.Endpoint) && acked(TypeUrl.Cluster) && acked(TypeUrl.Listener) && acked(TypeUrl.Route);
      },
      { timeoutMs: 10_000, description: "the new control plane's status to show every type ACKed at v2" },
    );
    for (let i = 0; i < 50; i++) await loop.next(() => true);
    const records = await loop.stop();

    t.diagnostic(`${records.length} requests across the restart, ${failedRecords(records).length} failed`);
    assert.deepEqual(failedRecords(records), [], "no request failed while the control plane was away or after it came back");
    assert.equal(await connected(), 1);
    assert.deepEqual(second.events.nacks, []);
    assert.ok(envoy.running());
  });
}
