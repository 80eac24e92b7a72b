// maxResponseBytes over SotW with a real Envoy (docs/xds-protocol.md § Operability;
// kuma#16355: a response over a client's gRPC limit kills its stream
// silently). A SotW response is the whole state and cannot be split, so the
// server does not send one over the limit: Envoy stays on its last good
// configuration, serving, and `server.status` says why for that node and
// type. The next configuration that fits goes out and clears the error.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl, type ResponseEvent } from "@ts-control-plane/xds";
import { makeRoute } from "../../examples/embedded/demo-resources.ts";
import { dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { ProxyNames, proxyResources } from "./proxy-resources.ts";

const MAX_RESPONSE_BYTES = 8 * 1024;
/** How long Envoy is watched for a change after the response that was not sent. */
const QUIET_WINDOW_MS = 1000;

/** The proxy's route plus `padding` virtual hosts nobody asks for: a route configuration of ~60 bytes per host. */
function bigRoute(padding: number, hostRewrite: string) {
  const base = makeRoute({ name: ProxyNames.route, cluster: ProxyNames.cluster, hostRewrite });
  const pads = Array.from({ length: padding }, (_, i) => ({
    name: `padding-${i}`,
    domains: [`padding-${i}.example.invalid`],
    routes: [{ match: { pathSpecifier: { case: "prefix" as const, value: "/" } }, action: { case: "directResponse" as const, value: { status: 404 } } }],
  }));
  return create(RouteConfigurationSchema, { name: base.name, virtualHosts: [...base.virtualHosts, ...pads] });
}

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`SotW ${mode}: a response over maxResponseBytes is not sent; Envoy keeps its last good config, status shows the error until one fits`, async (t) => {
    const nodeId = `response-size-${mode}`;
    const service1 = await startHttpUpstream({ name: "service1", t });
    const cache = createSnapshotCache();
    const responses: ResponseEvent[] = [];
    const server = createXdsServer({ cache, maxResponseBytes: MAX_RESPONSE_BYTES, hooks: { onResponse: (e) => responses.push(e) } });
    const port = await server.listen({ host: "127.0.0.1", port: 0 });
    t.after(() => server.close({ graceMs: 500 }));
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    const good = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port] }) });
    await cache.setSnapshot(nodeId, good);
    const envoy = await startEnvoy({ name: nodeId, t, bootstrap: xdsBootstrap({ xdsPort: port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "service1 answers through Envoy" });
    const rds = () => server.status.node(nodeId)?.types.find((s) => s.typeUrl === TypeUrl.Route);
    await waitUntil(() => rds()?.ackedVersion === good.typeVersion(TypeUrl.Route) || undefined, { timeoutMs: 10_000, description: "RDS ACKed" });

    const loop = startRequestLoop({ url, intervalMs: 10, maxRequests: 2000, maxDurationMs: 30_000 });
    t.after(() => loop.stop());

    // 300 padding virtual hosts: ~16 KiB of routes, over the 8 KiB limit.
    const tooLarge = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port], route: bigRoute(300, "too-large") }) });
    const routesBefore = responses.filter((e) => e.typeUrl === TypeUrl.Route).length;
    await cache.setSnapshot(nodeId, tooLarge);
    const error = await waitUntil(() => rds()?.error, { timeoutMs: 5000, description: "a response_too_large error in status" });
    t.diagnostic(`status error: ${JSON.stringify(error)}`);
    assert.equal(error.code, "response_too_large");
    assert.equal(error.version, tooLarge.typeVersion(TypeUrl.Route));
    assert.match(error.message, new RegExp(`over maxResponseBytes ${MAX_RESPONSE_BYTES}`));
    assert.equal(responses.filter((e) => e.typeUrl === TypeUrl.Route).length, routesBefore, "no RDS response was written");
    assert.ok(responses.every((e) => e.bytes <= MAX_RESPONSE_BYTES), "nothing over the limit was ever written");

    // Envoy is on its last good configuration, serving, with no NACK and a live stream.
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    const res = await httpGet(url);
    assert.equal(res.status, 200);
    assert.equal(res.body, "served by service1\n");
    assert.equal(dynamicRoutes(await envoy.configDump()).find((r) => r.name === ProxyNames.route)?.versionInfo, good.typeVersion(TypeUrl.Route));
    assert.equal(rds()?.ackedVersion, good.typeVersion(TypeUrl.Route));
    assert.equal(rds()?.nacks, 0);
    assert.equal(rds()?.error?.code, "response_too_large", "still visible");
    assert.equal(server.metrics.openStreams, mode === "ads" ? 1 : 4, "Envoy's streams stay up");

    // A configuration that fits (50 padding hosts) goes out, is ACKed, and clears the error.
    const fits = createSnapshot({ resources: proxyResources({ mode, listenerPort, endpoints: [service1.port], route: bigRoute(50, "fits") }) });
    await cache.setSnapshot(nodeId, fits);
    await waitUntil(() => rds()?.ackedVersion === fits.typeVersion(TypeUrl.Route) || undefined, { timeoutMs: 10_000, description: "the route that fits is ACKed" });
    assert.equal(rds()?.error, undefined, "the error is cleared by the response sent");
    await waitUntil(
      async () => dynamicRoutes(await envoy.configDump()).find((r) => r.name === ProxyNames.route)?.versionInfo === fits.typeVersion(TypeUrl.Route) || undefined,
      { timeoutMs: 5000, description: "Envoy holds the route that fits" },
    );
    const records = await loop.stop();
    assert.deepEqual(failedRecords(records), [], "no request failed throughout");
    const sent = responses.filter((e) => e.typeUrl === TypeUrl.Route).at(-1);
    t.diagnostic(`${records.length} requests, 0 failed; route that fits: ${sent?.bytes} bytes; too large: over ${MAX_RESPONSE_BYTES}`);
  });
}
