// go-control-plane #565 with a real Envoy: over Delta, a subscribed name that
// does not exist is answered once in removed_resources, so Envoy finishes
// initialising at once instead of after its 15 s initial fetch timeout, and
// the endpoints are sent as soon as they appear.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot, TypeUrl } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { deltaBootstrap, edsCluster, httpListener, loadAssignment, startDeltaXds } from "./delta-setup.ts";

const nodeId = "delta-missing";
const cluster = "proxy_cluster";

test("delta-ads: endpoints that do not exist yet are reported removed once; Envoy is LIVE at once and served when they appear", async (t) => {
  const mode = "delta-ads";
  const service1 = await startHttpUpstream({ name: "service1", t });
  const xds = await startDeltaXds({ t });
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  await xds.snapshots.setSnapshot(
    nodeId,
    createSnapshot({
      skipConsistencyCheck: true,
      resources: [edsCluster(cluster, mode), makeRoute({ name: "route_0", cluster }), httpListener({ name: "listener_0", port: listenerPort, routeConfigName: "route_0", mode })],
    }),
  );
  const started = Date.now();
  // startEnvoy resolves on /ready LIVE; its bound (8 s) is well under Envoy's 15 s initial fetch timeout.
  await startEnvoy({ name: "delta-missing", t, startTimeoutMs: 8000, bootstrap: deltaBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  const liveMs = Date.now() - started;
  t.diagnostic(`Envoy LIVE ${liveMs} ms after start with no endpoints in the cache`);
  const edsResponses = () => xds.events.responses.filter((e) => e.typeUrl === TypeUrl.Endpoint);
  assert.deepEqual(
    edsResponses().map((e) => [e.resourceNames, e.removedResources]),
    [[[], [cluster]]],
    "one EDS response saying the name does not exist",
  );
  assert.equal((await httpGet(url)).status, 503, "no endpoints yet");

  await xds.endpoints.setResources([loadAssignment(cluster, [service1.port])]);
  await waitUntil(async () => (await httpGet(url)).status === 200 || undefined, { timeoutMs: 5000, description: "served once the endpoints appear" });
  assert.deepEqual(
    edsResponses().map((e) => [e.resourceNames, e.removedResources]),
    [
      [[], [cluster]],
      [[cluster], []],
    ],
    "the missing name was reported once, then the resource sent",
  );
});
