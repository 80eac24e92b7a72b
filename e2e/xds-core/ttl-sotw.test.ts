// TTL and heartbeats over SotW with a real Envoy: a cluster with a 2 s TTL
// keeps serving while the server heartbeats it (every 400 ms); once the
// control plane is gone and heartbeats stop, Envoy drops the cluster at TTL
// expiry and the route has nowhere to go (503).
//
// A SotW heartbeat resends the cluster wrapped with its TTL at the version
// Envoy holds (protocol/sotw-ttl.ts: Envoy's SotW client refreshes no TTL from
// a body-less wrapper, and a CDS update without the cluster deletes it). The
// test also shows the resend costs Envoy nothing: the cluster is never
// modified, only re-armed.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { DiscoveryResponseSchema, ResourceSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { createSnapshot, createSnapshotCache, createXdsServer, encodeResource, TypeUrl, type ResponseEvent, type SnapshotCache, type XdsServer } from "@ts-control-plane/xds";
import { makeEndpoint, makeHttpListener, makeRoute } from "../../examples/embedded/demo-resources.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { failedRecords, startRequestLoop } from "../harness/request-loop.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap, type XdsMode } from "../harness/xds-bootstrap.ts";
import { makeEdsCluster, ProxyNames } from "./proxy-resources.ts";

const TTL_MS = 2000;

/** SotW response events carry the names whose TTL a heartbeat refreshed (sotw-stream.ts SotwResponseEvent). */
type SotwResponse = ResponseEvent & { readonly heartbeats: readonly string[] };

interface TtlXds {
  readonly cache: SnapshotCache;
  readonly server: XdsServer;
  readonly port: number;
  readonly responses: SotwResponse[];
  close(): Promise<void>;
}

async function startTtlXds(t: TestContext, options: { heartbeatIntervalMs?: number; bodylessHeartbeats?: boolean }): Promise<TtlXds> {
  const cache = createSnapshotCache();
  const responses: SotwResponse[] = [];
  let heartbeatNext = false;
  const server = createXdsServer({
    cache,
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    hooks: {
      onResponse: (e) => {
        responses.push(e as SotwResponse);
        heartbeatNext = (e as SotwResponse).heartbeats.length > 0;
      },
    },
  });
  if (!options.bodylessHeartbeats) {
    const port = await server.listen({ host: "127.0.0.1", port: 0 });
    let closed: Promise<void> | undefined;
    const close = () => (closed ??= server.close({ graceMs: 500 }));
    t.after(close);
    return { cache, server, port, responses, close };
  }
  // The negative control: the same server, on a gRPC server whose streams strip
  // the `resource` field from the wrappers of each heartbeat (onResponse runs
  // just before the write), which is the heartbeat the xDS doc describes.
  const grpcServer = new grpc.Server();
  const addService = grpcServer.addService.bind(grpcServer);
  grpcServer.addService = (definition, implementation) => {
    const wrapped: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(implementation)) {
      wrapped[name] = (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const write = call.write.bind(call) as (b: Buffer) => boolean;
        (call as { write: (b: Buffer) => boolean }).write = (b: Buffer) => write(heartbeatNext ? withoutBodies(b) : b);
        (handler as (c: typeof call) => void)(call);
      };
    }
    addService(definition, wrapped);
  };
  server.register(grpcServer);
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())).then(() => undefined));
  t.after(() => grpcServer.forceShutdown());
  return { cache, server, port, responses, close };
}

/** A DiscoveryResponse with every Resource wrapper's `resource` removed (name and ttl kept). */
function withoutBodies(bytes: Buffer): Buffer {
  const response = fromBinary(DiscoveryResponseSchema, bytes);
  for (const any of response.resources) {
    if (!any.typeUrl.endsWith("envoy.service.discovery.v3.Resource")) continue;
    const wrapper = fromBinary(ResourceSchema, any.value);
    any.value = toBinary(ResourceSchema, create(ResourceSchema, { name: wrapper.name, ...(wrapper.ttl ? { ttl: wrapper.ttl } : {}) }));
  }
  return Buffer.from(toBinary(DiscoveryResponseSchema, response));
}

async function setTtlSnapshot(
  xds: TtlXds,
  options: { nodeId: string; mode: XdsMode; listenerPort: number; upstreamPort: number; /** The TTL on the load assignment as well. */ endpointsTtl?: boolean },
): Promise<void> {
  const { mode } = options;
  const cla = makeEndpoint(ProxyNames.cluster, [{ host: "127.0.0.1", port: options.upstreamPort }]);
  await xds.cache.setSnapshot(
    options.nodeId,
    createSnapshot({
      resources: [
        encodeResource(ClusterSchema, makeEdsCluster(ProxyNames.cluster, mode), { ttlMs: TTL_MS }),
        options.endpointsTtl ? encodeResource(ClusterLoadAssignmentSchema, cla, { ttlMs: TTL_MS }) : cla,
        makeRoute({ name: ProxyNames.route, cluster: ProxyNames.cluster }),
        makeHttpListener({ name: ProxyNames.listener, address: "127.0.0.1", port: options.listenerPort, routeConfigName: ProxyNames.route, xdsMode: mode }),
      ],
    }),
  );
}

for (const mode of ["ads", "per-type"] as const satisfies readonly XdsMode[]) {
  test(`SotW ${mode}: heartbeats keep a TTL'd cluster alive; when they stop, Envoy drops it at expiry`, async (t) => {
    const nodeId = `sotw-ttl-${mode}`;
    const service1 = await startHttpUpstream({ name: "service1", t });
    const xds = await startTtlXds(t, { heartbeatIntervalMs: 400 });
    const listenerPort = await freePort();
    const url = `http://127.0.0.1:${listenerPort}/`;
    await setTtlSnapshot(xds, { nodeId, mode, listenerPort, upstreamPort: service1.port });
    const envoy = await startEnvoy({ name: nodeId, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
    await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "a 200 through Envoy" });

    // Three TTLs long: without heartbeats the cluster would have expired (see the next test).
    const loop = startRequestLoop({ url, intervalMs: 20, maxRequests: 2000, maxDurationMs: 3 * TTL_MS });
    t.after(() => loop.stop());
    const records = await loop.finished();
    assert.deepEqual(failedRecords(records), [], "heartbeats kept the cluster alive");
    const cds = xds.responses.filter((e) => e.typeUrl === TypeUrl.Cluster);
    const beats = cds.filter((e) => e.heartbeats.includes(ProxyNames.cluster));
    assert.ok(beats.length >= 8, `heartbeats were sent (${beats.length})`);
    assert.equal(cds.length - beats.length, 1, "the cluster changed once: every other CDS response was a heartbeat");
    assert.ok(new Set(cds.map((e) => e.version)).size === 1, "heartbeats keep the version Envoy holds");
    assert.ok(
      xds.responses.every((e) => e.typeUrl === TypeUrl.Cluster || e.heartbeats.length === 0),
      "types without a TTL are never resent",
    );
    const stats = await envoy.stats("^cluster_manager\\.(cluster_modified|cluster_removed|cds\\.update_(success|rejected))$");
    t.diagnostic(`${records.length} requests over ${3 * TTL_MS} ms, 0 failed; ${beats.length} heartbeats of ${beats[0]?.bytes} bytes; Envoy stats ${JSON.stringify(Object.fromEntries(stats))}`);
    assert.equal(stats.get("cluster_manager.cluster_modified"), 0, "a heartbeat re-arms the TTL without touching the cluster");
    assert.equal(stats.get("cluster_manager.cds.update_rejected"), 0);
    assert.ok((stats.get("cluster_manager.cds.update_success") ?? 0) >= beats.length, "Envoy accepted every heartbeat");
    const acked = xds.server.status.node(nodeId)?.types.find((s) => s.typeUrl === TypeUrl.Cluster);
    assert.equal(acked?.nacked, false);

    // The control plane goes away: heartbeats stop, and Envoy drops the cluster at TTL expiry.
    const stoppedAt = Date.now();
    await xds.close();
    const dropped = await waitUntil(
      async () => {
        const r = await httpGet(url);
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: TTL_MS + 5000, intervalMs: 100, description: "Envoy drops the expired cluster (503)" },
    );
    const after = Date.now() - stoppedAt;
    t.diagnostic(`503 "${dropped.body.trim()}" ${after} ms after the control plane stopped (TTL ${TTL_MS} ms)`);
    assert.ok(after >= TTL_MS - 500, "not before the TTL could expire");
    const removed = await envoy.stats("^cluster_manager\\.cluster_removed$");
    assert.equal(removed.get("cluster_manager.cluster_removed"), 1, "Envoy removed the expired cluster");
  });
}

test("SotW ads: heartbeats of a TTL'd cluster and its load assignment leave Envoy's hosts alone", async (t) => {
  const mode = "ads";
  const nodeId = "sotw-ttl-endpoints";
  const service1 = await startHttpUpstream({ name: "service1", t });
  const xds = await startTtlXds(t, { heartbeatIntervalMs: 400 });
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  await setTtlSnapshot(xds, { nodeId, mode, listenerPort, upstreamPort: service1.port, endpointsTtl: true });
  const envoy = await startEnvoy({ name: nodeId, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "a 200 through Envoy" });
  const statPattern = `^cluster\\.${ProxyNames.cluster}\\.(membership_change|update_no_rebuild|update_success|update_rejected)$`;
  const before = await envoy.stats(statPattern);
  const loop = startRequestLoop({ url, intervalMs: 20, maxRequests: 2000, maxDurationMs: 2 * TTL_MS });
  t.after(() => loop.stop());
  const records = await loop.finished();
  assert.deepEqual(failedRecords(records), [], "no request failed");
  const after = await envoy.stats(statPattern);
  const beats = xds.responses.filter((e) => e.typeUrl === TypeUrl.Endpoint && e.heartbeats.length > 0);
  t.diagnostic(`${beats.length} EDS heartbeats; Envoy stats before ${JSON.stringify(Object.fromEntries(before))} after ${JSON.stringify(Object.fromEntries(after))}`);
  assert.ok(beats.length >= 4, `EDS heartbeats were sent (${beats.length})`);
  const stat = (m: Map<string, number>, s: string) => m.get(`cluster.${ProxyNames.cluster}.${s}`) ?? 0;
  assert.equal(stat(after, "membership_change"), stat(before, "membership_change"), "the hosts never changed");
  assert.equal(stat(after, "update_rejected"), 0);
  assert.ok(stat(after, "update_no_rebuild") - stat(before, "update_no_rebuild") >= beats.length - 1, "Envoy took each EDS heartbeat as a no-op update");
});

test("SotW ads: without heartbeats a TTL'd cluster expires even while the control plane is up", async (t) => {
  const mode = "ads";
  const nodeId = "sotw-ttl-no-heartbeat";
  const service1 = await startHttpUpstream({ name: "service1", t });
  const xds = await startTtlXds(t, {});
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  await setTtlSnapshot(xds, { nodeId, mode, listenerPort, upstreamPort: service1.port });
  const envoy = await startEnvoy({ name: nodeId, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "a 200 through Envoy" });
  await waitUntil(async () => (await httpGet(url)).status === 503 || undefined, { timeoutMs: TTL_MS + 5000, intervalMs: 100, description: "the cluster expires" });
  assert.equal((await envoy.stats("^cluster_manager\\.cluster_removed$")).get("cluster_manager.cluster_removed"), 1);
  assert.equal(xds.server.metrics.heartbeatsWritten, 0);
});

// Why SotW heartbeats resend the cluster: the heartbeat the xDS doc describes
// (a Resource wrapper with name and ttl, no `resource`, at the accepted
// version) is left out of the CDS update by Envoy's SotW mux, and a SotW CDS
// update without a cluster deletes it. Envoy 1.40 removes the cluster at the
// first such heartbeat, well before its TTL.
test("SotW ads, negative control: a body-less heartbeat deletes the cluster at once", async (t) => {
  const mode = "ads";
  const nodeId = "sotw-ttl-bodyless";
  const service1 = await startHttpUpstream({ name: "service1", t });
  const xds = await startTtlXds(t, { heartbeatIntervalMs: 400, bodylessHeartbeats: true });
  const listenerPort = await freePort();
  const url = `http://127.0.0.1:${listenerPort}/`;
  await setTtlSnapshot(xds, { nodeId, mode, listenerPort, upstreamPort: service1.port });
  // Envoy cannot have had the cluster before it started: expiry comes TTL_MS after that at the earliest.
  const startedAt = Date.now();
  const envoy = await startEnvoy({ name: nodeId, t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode, nodeId }) });
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 10_000, description: "a 200 through Envoy" });
  const firstBeat = await waitUntil(() => xds.responses.find((e) => e.heartbeats.length > 0), { timeoutMs: 2000, description: "a heartbeat" });
  await waitUntil(async () => (await envoy.stats("^cluster_manager\\.cluster_removed$")).get("cluster_manager.cluster_removed") === 1 || undefined, {
    timeoutMs: TTL_MS + 2000,
    intervalMs: 20,
    description: "Envoy removes the cluster",
  });
  const removedAfter = Date.now() - startedAt;
  t.diagnostic(`cluster removed ${removedAfter} ms after Envoy started (TTL ${TTL_MS} ms), after the body-less heartbeat with nonce ${firstBeat.nonce}`);
  assert.ok(removedAfter < TTL_MS, "deleted by the heartbeat, not expired");
  assert.equal((await httpGet(url)).status, 503);
  assert.equal(xds.server.status.node(nodeId)?.types.find((s) => s.typeUrl === TypeUrl.Cluster)?.nacked, false, "accepted, not rejected: the cluster is simply gone");
});
