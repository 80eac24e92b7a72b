// CSDS through a real gRPC client, against status produced by real SotW streams.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientResourceStatus } from "@ts-control-plane/envoy-api/envoy/admin/v3/config_dump_shared_pb";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import {
  ClientStatusRequestSchema,
  ClientStatusResponseSchema,
  ConfigStatus,
  type ClientConfig_GenericXdsConfig,
  type ClientStatusRequest,
  type ClientStatusResponse,
} from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const fetchPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus";
const streamPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/StreamClientStatus";
const identity = (b: Buffer): Buffer => b;

function snapshot(listenerPort = 10000): Snapshot {
  return createSnapshot({ resources: [edsCluster("c1"), endpoints("c1"), httpListener("l1", "r1", listenerPort), route("r1", "c1")] });
}

const find = (r: ClientStatusResponse, nodeId: string, typeUrl: string, name: string): ClientConfig_GenericXdsConfig | undefined =>
  r.config.find((c) => c.node?.id === nodeId)?.genericXdsConfigs.find((g) => g.typeUrl === typeUrl && g.name === name);

describe("CSDS service", () => {
  let cache: SnapshotCache;
  let xds: XdsServer;
  let grpcServer: grpc.Server;
  let csds: grpc.Client;
  let port: number;
  const clients: RawXdsClient[] = [];
  let appResponses = 0;
  let appHookErrors = 0;
  const connect = (nodeId: string): RawXdsClient => {
    const c = new RawXdsClient({ port, nodeId });
    clients.push(c);
    return c;
  };

  const fetch = (init: MessageInitShape<typeof ClientStatusRequestSchema> = {}): Promise<ClientStatusResponse> => fetchRaw(Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, init))));
  const fetchRaw = (bytes: Buffer): Promise<ClientStatusResponse> =>
    new Promise((resolve, reject) => {
      csds.makeUnaryRequest(fetchPath, identity, identity, bytes, (error, value) => {
        if (error || !value) reject(error ?? new Error("no response"));
        else resolve(fromBinary(ClientStatusResponseSchema, value));
      });
    });

  before(async () => {
    cache = createSnapshotCache();
    // The application's own hooks keep working beside the server's CSDS record (a throwing one included).
    xds = createXdsServer({
      cache,
      hooks: {
        onResponse: () => {
          appResponses++;
          throw new Error("an application hook failing must not stop the record");
        },
        onHookError: () => appHookErrors++,
      },
    });
    grpcServer = new grpc.Server();
    xds.register(grpcServer); // xDS and CSDS

    port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    csds = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    for (const c of clients) c.close();
    csds.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        grpcServer.forceShutdown();
        resolve();
      }, 200);
      grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  });

  test("ACKed resources are SYNCED and ACKED, with the version sent and the resource itself", async () => {
    const s = snapshot();
    await cache.setSnapshot("synced", s);
    const c = connect("synced");
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["c1", "not-there"] });
    const eds = await c.next();
    c.ack(eds, ["c1", "not-there"]);
    await waitFor(() => xds.status.node("synced")?.types.every((t) => t.ackedVersion === t.sentVersion && t.sentVersion !== undefined));

    const r = await fetch();
    const cluster = find(r, "synced", TypeUrl.Cluster, "c1");
    assert.ok(cluster, "CDS resource c1 is reported");
    assert.equal(cluster.versionInfo, s.typeVersion(TypeUrl.Cluster));
    assert.equal(cluster.configStatus, ConfigStatus.SYNCED);
    assert.equal(cluster.clientStatus, ClientResourceStatus.ACKED);
    assert.equal(cluster.xdsConfig?.typeUrl, TypeUrl.Cluster);
    assert.equal(fromBinary(ClusterSchema, cluster.xdsConfig?.value ?? new Uint8Array()).name, "c1");
    assert.ok(cluster.lastUpdated, "last_updated is when it was sent");
    assert.equal(cluster.errorState, undefined);

    assert.equal(find(r, "synced", TypeUrl.Endpoint, "c1")?.clientStatus, ClientResourceStatus.ACKED);
    // Asked for by name and answered without it: the client knows it does not exist.
    const missing = find(r, "synced", TypeUrl.Endpoint, "not-there");
    assert.equal(missing?.clientStatus, ClientResourceStatus.DOES_NOT_EXIST);
    assert.equal(missing?.xdsConfig, undefined);
    assert.equal(r.config.find((x) => x.node?.id === "synced")?.node?.cluster, "test");
  });

  test("a NACKed response is ERROR and NACKED, with Envoy's message and the rejected version", async () => {
    await cache.setSnapshot("nacker", snapshot());
    const c = connect("nacker");
    c.send({ typeUrl: TypeUrl.Listener });
    const first = await c.next();
    c.ack(first);
    await cache.setSnapshot("nacker", snapshot(10001));
    const r2 = await c.next();
    assert.notEqual(r2.versionInfo, first.versionInfo);
    c.send({ typeUrl: TypeUrl.Listener, versionInfo: first.versionInfo, responseNonce: r2.nonce, errorMessage: "listener l1: address in use" });
    await waitFor(() => xds.status.node("nacker")?.types.find((t) => t.typeUrl === TypeUrl.Listener)?.nacked);

    const l1 = find(await fetch(), "nacker", TypeUrl.Listener, "l1");
    assert.equal(l1?.configStatus, ConfigStatus.ERROR);
    assert.equal(l1?.clientStatus, ClientResourceStatus.NACKED);
    assert.equal(l1?.versionInfo, r2.versionInfo);
    assert.equal(l1?.errorState?.details, "listener l1: address in use");
    assert.equal(l1?.errorState?.versionInfo, r2.versionInfo);
    assert.ok(l1?.errorState?.lastUpdateAttempt);
  });

  test("sent but not answered yet is STALE and REQUESTED; nothing sent yet is NOT_SENT", async () => {
    await cache.setSnapshot("waiting", snapshot());
    const c = connect("waiting");
    c.send({ typeUrl: TypeUrl.Cluster });
    await c.next(); // never ACKed
    const early = connect("early"); // no snapshot for this node: its request waits
    early.send({ typeUrl: TypeUrl.Route, resourceNames: ["r1"] });
    await waitFor(() => xds.status.node("early")?.types.length === 1);

    const r = await fetch();
    const c1 = find(r, "waiting", TypeUrl.Cluster, "c1");
    assert.equal(c1?.configStatus, ConfigStatus.STALE);
    assert.equal(c1?.clientStatus, ClientResourceStatus.REQUESTED);
    const r1 = find(r, "early", TypeUrl.Route, "r1");
    assert.equal(r1?.configStatus, ConfigStatus.NOT_SENT);
    assert.equal(r1?.clientStatus, ClientResourceStatus.REQUESTED);
    assert.equal(r1?.versionInfo, "");
  });

  test("each resource reports the version that last changed it, as Envoy's config_dump does", async () => {
    const v1 = createSnapshot({ resources: [edsCluster("c1"), endpoints("c1")] });
    await cache.setSnapshot("growing", v1);
    const c = connect("growing");
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    const v2 = createSnapshot({ resources: [edsCluster("c1"), endpoints("c1"), edsCluster("c2"), endpoints("c2")] });
    await cache.setSnapshot("growing", v2);
    const r2 = await c.next();
    c.ack(r2);
    await waitFor(() => xds.status.node("growing")?.types[0]?.ackedVersion === r2.versionInfo);

    const r = await fetch({ nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: "growing" } } }] });
    // c1 came unchanged in the second response: Envoy skips it and keeps the first version.
    assert.equal(find(r, "growing", TypeUrl.Cluster, "c1")?.versionInfo, v1.typeVersion(TypeUrl.Cluster));
    assert.equal(find(r, "growing", TypeUrl.Cluster, "c2")?.versionInfo, v2.typeVersion(TypeUrl.Cluster));
    assert.ok([...r.config[0]!.genericXdsConfigs].every((g) => g.configStatus === ConfigStatus.SYNCED));
    assert.ok(appResponses >= 2 && appHookErrors === appResponses, "the application's hooks ran, and their errors went to onHookError");
  });

  test("node_matchers select nodes by id (OR), and exclude_resource_contents drops the resources", async () => {
    const r = await fetch({
      nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: "synced" } } }, { nodeId: { matchPattern: { case: "prefix", value: "NACK" }, ignoreCase: true } }],
      excludeResourceContents: true,
    });
    assert.deepEqual(r.config.map((c) => c.node?.id).sort(), ["nacker", "synced"]);
    assert.ok(r.config.every((c) => c.genericXdsConfigs.length > 0 && c.genericXdsConfigs.every((g) => g.xdsConfig === undefined)));
    const regex = await fetch({ nodeMatchers: [{ nodeId: { matchPattern: { case: "safeRegex", value: { regex: "s.nc.d" } } } }] });
    assert.deepEqual(regex.config.map((c) => c.node?.id), ["synced"]);
    const none = await fetch({ nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: "nobody" } } }] });
    assert.deepEqual(none.config, []);
  });

  test("matchers it cannot evaluate and malformed requests are INVALID_ARGUMENT with a reason", async () => {
    await assert.rejects(fetch({ nodeMatchers: [{ nodeMetadatas: [{ path: [{ segment: { case: "key", value: "k" } }] }] }] }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details, /node_metadatas is not supported/);
      return true;
    });
    await assert.rejects(fetch({ nodeMatchers: [{ nodeId: { matchPattern: { case: "safeRegex", value: { regex: "(" } } } }] }), /not a valid regular expression/);
    await assert.rejects(fetchRaw(Buffer.from([0xff, 0xff, 0xff])), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /malformed ClientStatusRequest/.test(e.details));
  });

  test("StreamClientStatus answers every request of the stream with the status of that moment", async () => {
    const call = csds.makeBidiStreamRequest(streamPath, identity, identity);
    const received: ClientStatusResponse[] = [];
    const waiters: Array<() => void> = [];
    call.on("data", (b: Buffer) => {
      received.push(fromBinary(ClientStatusResponseSchema, b));
      for (const w of waiters.splice(0)) w();
    });
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    call.on("error", () => {});
    const next = async (n: number): Promise<ClientStatusResponse> => {
      await waitFor(() => received.length >= n);
      return received[n - 1] as ClientStatusResponse;
    };
    const ask = (r: MessageInitShape<typeof ClientStatusRequestSchema>): void => {
      call.write(Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, r) as ClientStatusRequest)));
    };
    ask({ nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: "streamed" } } }] });
    assert.deepEqual((await next(1)).config, []);
    await cache.setSnapshot("streamed", snapshot());
    const c = connect("streamed");
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    await waitFor(() => xds.status.node("streamed")?.types[0]?.ackedVersion !== undefined);
    ask({ nodeMatchers: [{ nodeId: { matchPattern: { case: "exact", value: "streamed" } } }] });
    assert.equal(find(await next(2), "streamed", TypeUrl.Cluster, "c1")?.configStatus, ConfigStatus.SYNCED);
    call.end();
    assert.equal((await ended).code, grpc.status.OK);
  });
});

async function waitFor(predicate: () => unknown, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
