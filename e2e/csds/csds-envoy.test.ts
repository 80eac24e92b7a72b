// CSDS against a real Envoy: Envoy is configured over ADS from a library
// snapshot (listener, route, cluster, endpoints), then a generic gRPC client
// asks our CSDS service what the node has. Its answer must agree with Envoy's
// own /config_dump about the version of every listener and cluster (and route),
// and about a NACKed listener.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { ClientResourceStatus } from "@ts-control-plane/envoy-api/envoy/admin/v3/config_dump_shared_pb";
import type { Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import {
  ClientStatusRequestSchema,
  ClientStatusResponseSchema,
  ConfigStatus,
  type ClientStatusResponse,
} from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { createSnapshot, createSnapshotCache, createXdsServer, TypeUrl, type NackEvent, type SnapshotCache, type XdsServer } from "@ts-control-plane/xds";
import { edsCluster, endpoints, httpListener, route } from "@ts-control-plane/xds/testing";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";

const nodeId = "csds-e2e-node";
const fetchPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus";
const identity = (b: Buffer): Buffer => b;

/** The library's xDS server, which serves CSDS beside xDS, on a gRPC server of the application's. */
async function startXdsWithCsds(t: TestContext): Promise<{ cache: SnapshotCache; xds: XdsServer; port: number; nacks: NackEvent[] }> {
  const cache = createSnapshotCache({ ads: true });
  const nacks: NackEvent[] = [];
  const xds = createXdsServer({ cache, controlPlaneId: "e2e-csds", hooks: { onNack: (e) => nacks.push(e) } });
  const server = new grpc.Server();
  xds.register(server); // xDS and CSDS
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  t.after(() => server.forceShutdown());
  return { cache, xds, port, nacks };
}

/** A generic CSDS client: @grpc/grpc-js on the wire, protobuf-es for the messages. */
function fetchClientStatus(port: number, nodeIdExact: string): Promise<ClientStatusResponse> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const request = create(ClientStatusRequestSchema, { nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: nodeIdExact } } }] });
  return new Promise<ClientStatusResponse>((resolve, reject) => {
    client.makeUnaryRequest(fetchPath, identity, identity, Buffer.from(toBinary(ClientStatusRequestSchema, request)), { deadline: Date.now() + 5000 }, (error, value) => {
      client.close();
      if (error || !value) reject(error ?? new Error("CSDS: no response"));
      else resolve(fromBinary(ClientStatusResponseSchema, value));
    });
  });
}

test("CSDS agrees with Envoy's /config_dump about listener, route and cluster versions, before and after an update", async (t) => {
  const upstream = await startHttpUpstream({ name: "csds-upstream", t });
  const xds = await startXdsWithCsds(t);
  const listenerPort = await freePort();
  const build = (clusters: readonly string[]) =>
    createSnapshot({
      resources: [
        ...clusters.map((c) => edsCluster(c)),
        ...clusters.map((c) => endpoints(c, [upstream.port])),
        httpListener("csds_listener", "csds_route", listenerPort),
        route("csds_route", clusters[0] ?? "c1"),
      ],
    });
  const first = build(["upstream_a"]);
  await xds.cache.setSnapshot(nodeId, first);
  const envoy = await startEnvoy({ name: "csds-ads", t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode: "ads", nodeId }) });
  const ok = await waitUntil(
    async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/`);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 5000, description: "a 200 through csds_listener" },
  );
  assert.equal(ok.body, "served by csds-upstream\n");

  const agree = async (expectedClusters: readonly string[], snapshotVersion: (typeUrl: string) => string): Promise<void> => {
    // Envoy ACKs after applying: once every type is ACKed at the snapshot's
    // version, config_dump shows what was applied.
    await waitUntil(
      () => {
        const types = xds.xds.status.node(nodeId)?.types ?? [];
        return [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route].every((type) => types.find((x) => x.typeUrl === type)?.ackedVersion === snapshotVersion(type));
      },
      { timeoutMs: 5000, description: "Envoy ACKed CDS, EDS, LDS and RDS at the snapshot's versions" },
    );
    const response = await fetchClientStatus(xds.port, nodeId);
    assert.ok(response.config[0]?.genericXdsConfigs.every((g) => g.configStatus === ConfigStatus.SYNCED), "CSDS reports everything SYNCED");
    assert.equal(response.config.length, 1);
    const config = response.config[0]!;
    assert.equal(config.node?.id, nodeId);
    const generic = config.genericXdsConfigs;
    const dump = await envoy.configDump();

    const envoyListeners = dynamicListeners(dump);
    const csdsListeners = generic.filter((g) => g.typeUrl === TypeUrl.Listener);
    assert.deepEqual(csdsListeners.map((g) => g.name), envoyListeners.map((l) => l.name).sort());
    for (const l of envoyListeners) {
      const g = csdsListeners.find((x) => x.name === l.name);
      assert.equal(g?.versionInfo, l.versionInfo, `listener ${l.name}: CSDS and config_dump agree on the version`);
      assert.equal(g?.clientStatus, ClientResourceStatus.ACKED);
      assert.equal(l.state, "active");
    }
    const envoyClusters = dynamicClusters(dump);
    const csdsClusters = generic.filter((g) => g.typeUrl === TypeUrl.Cluster);
    assert.deepEqual(csdsClusters.map((g) => g.name), [...expectedClusters].sort());
    assert.deepEqual(envoyClusters.map((c) => c.name).sort(), [...expectedClusters].sort());
    for (const c of envoyClusters) {
      const g = csdsClusters.find((x) => x.name === c.name);
      assert.equal(g?.versionInfo, c.versionInfo, `cluster ${c.name}: CSDS and config_dump agree on the version`);
      assert.equal(g?.clientStatus, ClientResourceStatus.ACKED);
      assert.equal(g?.xdsConfig?.typeUrl, TypeUrl.Cluster);
    }
    const envoyRoutes = dynamicRoutes(dump);
    for (const r of envoyRoutes) {
      assert.equal(generic.find((g) => g.typeUrl === TypeUrl.Route && g.name === r.name)?.versionInfo, r.versionInfo, `route ${r.name}`);
    }
    // Endpoints: config_dump has no EDS version. Envoy's per-cluster
    // version_text is the subscription's last accepted version_info, which
    // moves with every EDS response even for unchanged endpoints, so it
    // agrees with the type's ACKed version in our status rather than with a
    // per-resource "last changed" version.
    const edsVersions = await envoy.textStats("version_text");
    const edsAcked = xds.xds.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Endpoint)?.ackedVersion;
    for (const name of expectedClusters) {
      const g = generic.find((x) => x.typeUrl === TypeUrl.Endpoint && x.name === name);
      assert.equal(g?.configStatus, ConfigStatus.SYNCED, `EDS ${name} is SYNCED`);
      assert.equal(g?.clientStatus, ClientResourceStatus.ACKED, `EDS ${name} is ACKED`);
      assert.equal(edsVersions.get(`cluster.${name}.version_text`), edsAcked, `EDS ${name}: Envoy's version_text is the ACKed EDS version`);
    }
  };

  await agree(["upstream_a"], (type) => first.typeVersion(type));

  // An update: a second cluster joins; CDS and EDS versions move, LDS and RDS stay.
  const second = build(["upstream_a", "upstream_b"]);
  await xds.cache.setSnapshot(nodeId, second);
  await envoy.waitFor((d) => dynamicClusters(d).length === 2, { timeoutMs: 5000, description: "Envoy has both clusters" });
  await agree(["upstream_a", "upstream_b"], (type) => second.typeVersion(type));
  assert.notEqual(first.typeVersion(TypeUrl.Cluster), second.typeVersion(TypeUrl.Cluster));
  assert.deepEqual(xds.nacks, []);
});

/** The fixture's listener with an empty HCM stat_prefix, which Envoy's validation rules reject. */
function brokenListener(name: string, routeName: string, port: number): Listener {
  const listener = httpListener(name, routeName, port);
  const filter = listener.filterChains[0]?.filters[0];
  if (filter?.configType.case !== "typedConfig") throw new Error("fixture listener changed shape");
  const hcm = anyUnpack(filter.configType.value, HttpConnectionManagerSchema);
  if (!hcm) throw new Error("fixture listener has no HCM");
  hcm.statPrefix = "";
  filter.configType = { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) };
  return listener;
}

test("a listener Envoy rejects is ERROR and NACKED in CSDS, with the error config_dump shows, while the rest stays SYNCED", async (t) => {
  const upstream = await startHttpUpstream({ name: "csds-nack-upstream", t });
  const xds = await startXdsWithCsds(t);
  const listenerPort = await freePort();
  const build = (listener: Listener) =>
    createSnapshot({ resources: [edsCluster("nack_cluster"), endpoints("nack_cluster", [upstream.port]), listener, route("nack_route", "nack_cluster")] });
  const good = build(httpListener("nack_listener", "nack_route", listenerPort));
  await xds.cache.setSnapshot(nodeId, good);
  const envoy = await startEnvoy({ name: "csds-nack", t, bootstrap: xdsBootstrap({ xdsPort: xds.port, mode: "ads", nodeId }) });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${listenerPort}/`)).status === 200, { timeoutMs: 5000, description: "a 200 with the good listener" });

  const bad = build(brokenListener("nack_listener", "nack_route", listenerPort));
  await xds.cache.setSnapshot(nodeId, bad);
  await waitUntil(() => xds.xds.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Listener)?.nacked, {
    timeoutMs: 5000,
    description: "the LDS NACK reaches status",
  });
  const response = await fetchClientStatus(xds.port, nodeId);
  const generic = response.config[0]?.genericXdsConfigs ?? [];
  const listener = generic.find((g) => g.typeUrl === TypeUrl.Listener && g.name === "nack_listener");
  assert.equal(listener?.configStatus, ConfigStatus.ERROR);
  assert.equal(listener?.clientStatus, ClientResourceStatus.NACKED);
  assert.equal(listener?.errorState?.versionInfo, bad.typeVersion(TypeUrl.Listener));
  // CSDS's ERROR carries the latest config, the rejected one, and its version.
  assert.equal(listener?.versionInfo, bad.typeVersion(TypeUrl.Listener));

  const dumped = await envoy.waitFor((d) => dynamicListeners(d).find((l) => l.name === "nack_listener" && l.errorState), {
    timeoutMs: 5000,
    description: "config_dump shows the listener's error_state",
  });
  assert.equal(dumped.state, "active");
  assert.equal(dumped.versionInfo, good.typeVersion(TypeUrl.Listener), "Envoy keeps serving the version it accepted");
  const envoyDetails = String(dumped.errorState?.["details"] ?? "");
  assert.ok(envoyDetails !== "" && (listener?.errorState?.details ?? "").includes(envoyDetails), `CSDS error '${listener?.errorState?.details}' carries Envoy's '${envoyDetails}'`);

  for (const g of generic.filter((x) => x.typeUrl !== TypeUrl.Listener)) {
    assert.equal(g.configStatus, ConfigStatus.SYNCED, `${g.typeUrl} ${g.name} stays SYNCED`);
  }
  assert.equal((await httpGet(`http://127.0.0.1:${listenerPort}/`)).status, 200, "the accepted listener keeps serving");
});
