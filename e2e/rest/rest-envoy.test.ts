// REST fetch against a real Envoy: CDS and EDS come from our REST gateway
// (api_type REST, short refresh_delay) through a static cluster pointing at it,
// and a request through a static listener reaches a local upstream over the
// cluster and endpoints Envoy fetched. Then the endpoints move to a second
// upstream, and polling picks that up.
import assert from "node:assert/strict";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { test, type TestContext } from "node:test";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { ClientStatusRequestSchema, ConfigStatus } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { Cluster_DiscoveryType, ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ApiConfigSource_ApiType, ApiVersion, ConfigSourceSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";
import { createSnapshot, createSnapshotCache, StatusRegistry, TypeUrl, buildCsdsResponse, createRestGateway } from "@ts-control-plane/xds";
import { endpoints } from "@ts-control-plane/xds/testing";
import { dynamicClusters, type Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { listenLocal } from "../harness/listen-local.ts";

const nodeId = "rest-e2e-node";
const restCluster = "rest_xds";
const upstreamCluster = "rest_upstream";

/** A ConfigSource polling our gateway over REST, for CDS (bootstrap) and EDS (inside the cluster). */
const restConfigSourceJson: Json = {
  resource_api_version: "V3",
  api_config_source: { api_type: "REST", transport_api_version: "V3", cluster_names: [restCluster], refresh_delay: "0.2s", request_timeout: "1s" },
};

function edsOverRestCluster(name: string, options: { connectTimeoutSeconds?: bigint } = {}) {
  return create(ClusterSchema, {
    name,
    connectTimeout: create(DurationSchema, { seconds: options.connectTimeoutSeconds ?? 1n }),
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: {
      edsConfig: create(ConfigSourceSchema, {
        resourceApiVersion: ApiVersion.V3,
        configSourceSpecifier: {
          case: "apiConfigSource",
          value: {
            apiType: ApiConfigSource_ApiType.REST,
            transportApiVersion: ApiVersion.V3,
            clusterNames: [restCluster],
            refreshDelay: create(DurationSchema, { nanos: 200_000_000 }),
            requestTimeout: create(DurationSchema, { seconds: 1n }),
          },
        },
      }),
    },
  });
}

function staticCluster(name: string, port: number): Json {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

function staticListener(port: number, cluster: string): Json {
  return {
    name: "rest_in",
    address: { socket_address: { address: "127.0.0.1", port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: "rest_in",
              // The cluster arrives later over REST CDS; a static route is checked at boot unless told not to.
              route_config: { name: "rest_in_routes", validate_clusters: false, virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster } }] }] },
              http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
            },
          },
        ],
      },
    ],
  };
}

/** What Envoy asked and what the gateway answered, per exchange. */
interface Exchange {
  readonly path: string;
  readonly contentType: string;
  readonly status: number;
}

/** The gateway's handler on its own HTTP server, with every exchange recorded. */
async function startRecordedGateway(t: TestContext, options: Parameters<typeof createRestGateway>[0]): Promise<{ port: number; exchanges: Exchange[] }> {
  const gateway = createRestGateway(options);
  const exchanges: Exchange[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.on("finish", () => exchanges.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "", status: res.statusCode }));
    gateway.handler(req, res);
  });
  const { port } = await listenLocal(server, { what: "REST gateway", t });
  return { port, exchanges };
}

/** Envoy with CDS over REST from the gateway, and a static listener routing to rest_upstream. */
async function startRestEnvoy(t: TestContext, name: string, gatewayPort: number): Promise<{ envoy: Awaited<ReturnType<typeof startEnvoy>>; listenerPort: number }> {
  const listenerPort = await freePort();
  const envoy = await startEnvoy({
    name,
    t,
    bootstrap: {
      node: { id: nodeId, cluster: "e2e" },
      dynamic_resources: { cds_config: restConfigSourceJson },
      static_resources: { clusters: [staticCluster(restCluster, gatewayPort)], listeners: [staticListener(listenerPort, upstreamCluster)] },
    },
  });
  return { envoy, listenerPort };
}

test("Envoy fetches clusters and endpoints over REST from the gateway and serves a request through them", async (t) => {
  const upstreamA = await startHttpUpstream({ name: "rest-a", t });
  const upstreamB = await startHttpUpstream({ name: "rest-b", t });
  const cache = createSnapshotCache();
  const status = new StatusRegistry();
  const gateway = await startRecordedGateway(t, { cache, status, controlPlaneId: "e2e-rest" });
  const build = (port: number) => createSnapshot({ resources: [edsOverRestCluster(upstreamCluster), endpoints(upstreamCluster, [port])] });
  const first = build(upstreamA.port);
  await cache.setSnapshot(nodeId, first);

  const { envoy, listenerPort } = await startRestEnvoy(t, "rest-fetch", gateway.port);

  const ok = await waitUntil(
    async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/via-rest`);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 5000, description: "a 200 through the cluster and endpoints fetched over REST" },
  );
  assert.equal(ok.body, "served by rest-a\n");
  assert.equal(upstreamA.requests.at(-1)?.path, "/via-rest");

  const dump = await envoy.configDump();
  const cluster = dynamicClusters(dump).find((c) => c.name === upstreamCluster);
  assert.ok(cluster, "Envoy has the cluster from REST CDS");
  assert.equal(cluster.versionInfo, first.typeVersion(TypeUrl.Cluster));

  // Envoy spoke proto3 JSON to both REST paths.
  const paths = new Set(gateway.exchanges.map((e) => e.path));
  assert.ok(paths.has("/v3/discovery:clusters") && paths.has("/v3/discovery:endpoints"), `paths seen: ${[...paths].join(", ")}`);
  assert.ok(gateway.exchanges.every((e) => e.contentType.startsWith("application/json")));

  // Polling goes on: once Envoy has a type, it is answered 304, and status shows the ACKs.
  await waitUntil(() => gateway.exchanges.some((e) => e.path === "/v3/discovery:clusters" && e.status === 304), {
    timeoutMs: 5000,
    description: "a 304 for a CDS poll",
  });
  const acked = await waitUntil(
    () => {
      const s = status.node(nodeId);
      const ackedAt = (type: string) => s?.types.find((x) => x.typeUrl === type)?.ackedVersion === first.typeVersion(type);
      return ackedAt(TypeUrl.Cluster) && ackedAt(TypeUrl.Endpoint) ? s : undefined;
    },
    { timeoutMs: 5000, description: "status shows CDS and EDS ACKed at the snapshot's versions" },
  );
  assert.equal(acked.nodeCluster, "e2e");
  assert.ok(acked.types.every((x) => !x.nacked));
  assert.deepEqual(acked.types.find((x) => x.typeUrl === TypeUrl.Endpoint)?.subscribed, [upstreamCluster]);
  // What REST recorded is what CSDS reports: SYNCED at the version config_dump shows.
  const csds = buildCsdsResponse(create(ClientStatusRequestSchema), { status, cache });
  const csdsCluster = csds.config[0]?.genericXdsConfigs.find((g) => g.typeUrl === TypeUrl.Cluster && g.name === upstreamCluster);
  assert.equal(csdsCluster?.configStatus, ConfigStatus.SYNCED);
  assert.equal(csdsCluster?.versionInfo, cluster.versionInfo);
  assert.equal(csds.config[0]?.genericXdsConfigs.find((g) => g.typeUrl === TypeUrl.Endpoint)?.configStatus, ConfigStatus.SYNCED);
  const okCount = gateway.exchanges.filter((e) => e.status === 200).length;

  // The endpoints move to the second upstream: the next EDS poll picks them up.
  await cache.setSnapshot(nodeId, build(upstreamB.port));
  const moved = await waitUntil(
    async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/after-move`);
      return r.status === 200 && r.body === "served by rest-b\n" ? r : undefined;
    },
    { timeoutMs: 5000, description: "requests reach the second upstream after the EDS change" },
  );
  assert.equal(moved.body, "served by rest-b\n");
  // Only what changed was sent again: one EDS answer, no CDS answer.
  const newAnswers = gateway.exchanges.filter((e) => e.status === 200).slice(okCount);
  assert.ok(newAnswers.length >= 1 && newAnswers.every((e) => e.path === "/v3/discovery:endpoints"), JSON.stringify(newAnswers.map((e) => e.path)));
  assert.ok(gateway.exchanges.every((e) => e.status === 200 || e.status === 304), "no error answers");
});

test("a cluster Envoy rejects over REST is a NACK in status, is not resent on every poll, and a fix is taken", async (t) => {
  const upstream = await startHttpUpstream({ name: "rest-nack", t });
  const cache = createSnapshotCache();
  const status = new StatusRegistry();
  const gateway = await startRecordedGateway(t, { cache, status });
  const good = createSnapshot({ resources: [edsOverRestCluster(upstreamCluster), endpoints(upstreamCluster, [upstream.port])] });
  await cache.setSnapshot(nodeId, good);
  const { listenerPort } = await startRestEnvoy(t, "rest-nack", gateway.port);
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${listenerPort}/`)).status === 200, { timeoutMs: 5000, description: "a 200 with the good config" });

  // A negative connect_timeout breaks Envoy's validation rules: CDS rejects it.
  const bad = createSnapshot({
    resources: [edsOverRestCluster(upstreamCluster), endpoints(upstreamCluster, [upstream.port]), edsOverRestCluster("broken", { connectTimeoutSeconds: -1n }), endpoints("broken")],
  });
  await cache.setSnapshot(nodeId, bad);
  const cds = () => status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Cluster);
  const nacked = await waitUntil(() => (cds()?.nacked ? cds() : undefined), { timeoutMs: 5000, description: "status shows the CDS NACK" });
  assert.equal(nacked.lastNack?.version, bad.typeVersion(TypeUrl.Cluster));
  assert.equal(nacked.ackedVersion, good.typeVersion(TypeUrl.Cluster));
  // Envoy's REST client sends no error_detail: the NACK is inferred from it asking again with the old version.
  assert.match(nacked.lastNack?.message ?? "", /did not apply/);

  // Envoy keeps polling with its error; the rejected set is not answered again.
  const cdsAnswers = () => gateway.exchanges.filter((e) => e.path === "/v3/discovery:clusters" && e.status === 200).length;
  const answersAtNack = cdsAnswers();
  const pollsAtNack = gateway.exchanges.filter((e) => e.path === "/v3/discovery:clusters").length;
  await waitUntil(() => gateway.exchanges.filter((e) => e.path === "/v3/discovery:clusters").length >= pollsAtNack + 3, {
    timeoutMs: 5000,
    description: "three more CDS polls",
  });
  assert.equal(cdsAnswers(), answersAtNack, "polls after the NACK are answered 304");
  assert.equal(nacked.nacks, 1);
  assert.equal(cds()?.nacks, 1, "the NACK is recorded once, not once per poll");
  assert.equal((await httpGet(`http://127.0.0.1:${listenerPort}/`)).status, 200, "the good cluster keeps serving");

  // A fixed snapshot is taken and ACKed.
  const fixed = createSnapshot({
    resources: [edsOverRestCluster(upstreamCluster), endpoints(upstreamCluster, [upstream.port]), edsOverRestCluster("broken"), endpoints("broken")],
  });
  await cache.setSnapshot(nodeId, fixed);
  await waitUntil(() => cds()?.ackedVersion === fixed.typeVersion(TypeUrl.Cluster) && !cds()?.nacked, { timeoutMs: 5000, description: "the fix is ACKed" });
});
