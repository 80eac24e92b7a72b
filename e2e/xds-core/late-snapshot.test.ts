// Envoy connects before the control plane has anything for it (docs/xds-protocol.md
// § Subscriptions: remember subscriptions to resources that do not exist yet,
// and answer as soon as they appear). Envoy stays initializing, and must become
// LIVE and serve as soon as the snapshot is set, well before its 15 s initial
// fetch timeout would have let it go LIVE empty-handed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { dynamicListeners } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { startXdsServer } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { ProxyNames, proxyResources } from "./proxy-resources.ts";

const nodeId = "late-node";

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`late snapshot (${mode}): Envoy waiting for a node with no snapshot is configured as soon as one is set`, async (t) => {
    const service1 = await startHttpUpstream({ name: "service1", t });
    const xds = await startXdsServer({ t, ads: mode === "ads" });
    const listenerPort = await freePort();
    const envoy = await startEnvoy({ name: `late-${mode}`, t, readyWhen: "admin", bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });

    // Envoy has asked for clusters (it asks for listeners only once its clusters
    // are initialized) and got nothing: it is still initializing.
    await waitUntil(() => xds.server.status.node(nodeId)?.types.some((s) => s.typeUrl === TypeUrl.Cluster), {
      timeoutMs: 10_000,
      description: "Envoy's CDS request to reach the server",
    });
    assert.deepEqual(xds.events.responses, [], "nothing to send before a snapshot exists");
    assert.notEqual((await envoy.serverInfo())["state"], "LIVE");

    const setAt = Date.now();
    const snapshot = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await xds.cache.setSnapshot(nodeId, snapshot);
    await waitUntil(async () => (await envoy.serverInfo())["state"] === "LIVE", { timeoutMs: 10_000, description: "Envoy to go LIVE" });
    const res = await waitUntil(async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/`);
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 10_000, description: "a 200 through the listener" });
    t.diagnostic(`LIVE and serving ${Date.now() - setAt} ms after setSnapshot`);
    assert.equal(res.body, "served by service1\n");
    const listener = dynamicListeners(await envoy.configDump()).find((l) => l.name === ProxyNames.listener);
    assert.equal(listener?.versionInfo, snapshot.typeVersion(TypeUrl.Listener));
  });
}
