// Many snapshots in quick succession (an operator script, a flapping source):
// responses for a stream go through one ordered queue and stale ACKs (nonces
// of superseded responses) trigger nothing (docs/xds-protocol.md § Stream state;
// go-control-plane #752, #875). Envoy must end on the last snapshot, never NACK,
// and traffic must not fail; the server must not send more responses than changes.
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
import { ProxyNames, proxyResources } from "./proxy-resources.ts";

const nodeId = "rapid-node";
const CHANGES = 30;

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`rapid updates (${mode}): ${CHANGES} snapshots back to back end on the last one, without NACK or failed requests`, async (t) => {
    const services = [await startHttpUpstream({ name: "service1", t }), await startHttpUpstream({ name: "service2", t })];
    const xds = await startXdsServer({ t, ads: mode === "ads" });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    await xds.cache.setSnapshot(nodeId, createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [services[0]!.port] }) }));
    const envoy = await startEnvoy({ name: `rapid-${mode}`, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "service1 answers" });

    const loop = startRequestLoop({ url, intervalMs: 2, maxRequests: 5000, maxDurationMs: 30_000 });
    t.after(() => loop.stop());
    const edsBefore = xds.events.responses.filter((r) => r.typeUrl === TypeUrl.Endpoint).length;
    // Alternate between the two services without waiting for Envoy, in bursts
    // of three spread over the request loop, so traffic flows during the changes.
    let last = createSnapshot({ resources: [] });
    for (let i = 1; i <= CHANGES; i++) {
      last = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [services[i % 2]!.port] }) });
      void xds.cache.setSnapshot(nodeId, last);
      if (i % 3 === 0) await loop.next(() => true);
    }
    await xds.cache.setSnapshot(nodeId, last);
    const expected = `served by ${services[CHANGES % 2]!.name}\n`;
    await waitUntil(
      async () => (await envoy.textStats(`^cluster\\.${ProxyNames.cluster}\\.version_text$`)).get(`cluster.${ProxyNames.cluster}.version_text`) === last.typeVersion(TypeUrl.Endpoint),
      { timeoutMs: 10_000, description: "Envoy's EDS version to be the last snapshot's" },
    );
    await waitUntil(
      () => xds.server.status.node(nodeId)?.types.find((s) => s.typeUrl === TypeUrl.Endpoint)?.ackedVersion === last.typeVersion(TypeUrl.Endpoint),
      { timeoutMs: 10_000, description: "status to show the last EDS version ACKed" },
    );
    for (let i = 0; i < 30; i++) await loop.next(() => true);
    const records = await loop.stop();
    const tail = records.slice(-20);
    assert.ok(tail.every((r) => r.body === expected), `the last snapshot is in force: ${JSON.stringify(tail.map((r) => r.body))}`);
    assert.deepEqual(failedRecords(records), []);
    assert.deepEqual(xds.events.nacks, []);
    const edsResponses = xds.events.responses.filter((r) => r.typeUrl === TypeUrl.Endpoint).length - edsBefore;
    t.diagnostic(`${CHANGES} changes → ${edsResponses} EDS responses; ${records.length} requests, 0 failed`);
    assert.ok(edsResponses >= 1 && edsResponses <= CHANGES, "at most one response per change, coalesced when Envoy is slower");
  });
}
