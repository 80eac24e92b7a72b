// A second real xDS client: proxyless gRPC (@grpc/grpc-js-xds) resolves
// `xds:///echo-target` through LDS → RDS → CDS → EDS over SotW ADS from our
// server, calls reach backend 1, and an EDS-only change moves them to backend 2
// without restarting anything. The gRPC client runs in a child process of its
// own (grpc-js-xds keeps process-wide state built from GRPC_XDS_BOOTSTRAP).
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { createSnapshot, TypeUrl, type Snapshot } from "@ts-control-plane/xds";
import { startXdsServer, type XdsServerFixture } from "../harness/start-xds-server.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { startEchoBackend } from "./echo-service.ts";
import { meshNames, meshResources } from "./mesh-resources.ts";
import { startGrpcXdsCaller } from "./start-grpc-xds-caller.ts";

const target = "echo-target";
const nodeId = "grpc-xds-e2e-node";
const xdsTypes = [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint] as const;

/** The node's status per type, one line each, for assertion messages. */
function statusLines(xds: XdsServerFixture): string {
  const types = xds.server.status.node(nodeId)?.types ?? [];
  return types.map((t) => `${t.typeUrl}: sent=${t.sentVersion} acked=${t.ackedVersion} nacks=${t.nacks} ${t.lastNack?.message ?? ""}`).join("\n");
}

/** Whether the node ACKed exactly the snapshot's version of every type, with no NACK outstanding. */
function ackedAll(xds: XdsServerFixture, snapshot: Snapshot): boolean {
  const types = xds.server.status.node(nodeId)?.types ?? [];
  return xdsTypes.every((url) => {
    const t = types.find((x) => x.typeUrl === url);
    return t !== undefined && !t.nacked && t.ackedVersion === snapshot.typeVersion(url);
  });
}

test("grpc-js-xds resolves xds:/// over SotW ADS, ACKs LDS/RDS/CDS/EDS, and follows an EDS change to another backend", async (t) => {
  const backend1 = await startEchoBackend({ name: "backend-1" });
  t.after(() => backend1.stop());
  const backend2 = await startEchoBackend({ name: "backend-2" });
  t.after(() => backend2.stop());
  const xds = await startXdsServer({ t, controlPlaneId: "grpc-xds-e2e" });

  const v1 = createSnapshot({ resources: meshResources({ target, backendPorts: [backend1.port] }) });
  await xds.cache.setSnapshot(nodeId, v1);
  const caller = await startGrpcXdsCaller({ target, xdsPort: xds.port, nodeId, t, env: { GRPC_TRACE: "xds_client,xds_resolver", GRPC_VERBOSITY: "DEBUG" } });
  const diagnostics = () => `status:\n${statusLines(xds)}\nNACKs: ${JSON.stringify(xds.events.nacks)}\ngrpc client stderr tail:\n${caller.stderr().slice(-4000)}`;

  // The first call waits for the whole chain LDS → RDS → CDS → EDS; the
  // caller's own deadline bounds each attempt.
  const first = await waitUntil(() => caller.call({ timeoutMs: 3000 }), { timeoutMs: 15_000, intervalMs: 200, description: "a call through xds:///echo-target", onTimeout: diagnostics });
  assert.equal(first, "backend-1");
  for (let i = 0; i < 5; i++) assert.equal(await caller.call(), "backend-1", "every call goes to the only endpoint");

  await waitUntil(() => ackedAll(xds, v1), { timeoutMs: 5000, description: "the gRPC client ACKed every type of v1", onTimeout: diagnostics });
  const node = xds.server.status.node(nodeId);
  assert.equal(node?.streams, 1, "one ADS stream carries all four types");
  const names = meshNames(target);
  const subscribed = Object.fromEntries((node?.types ?? []).map((x) => [x.typeUrl, x.subscribed]));
  assert.deepEqual(subscribed, {
    [TypeUrl.Listener]: [names.listener],
    [TypeUrl.Route]: [names.route],
    [TypeUrl.Cluster]: [names.cluster],
    [TypeUrl.Endpoint]: [names.cluster],
  }, "gRPC asks for each resource by name, listener included");
  assert.ok(xds.events.opens.every((e) => e.ads && e.variant === "sotw"), "gRPC speaks SotW over ADS");
  assert.deepEqual(xds.events.nacks, []);

  // Only the endpoints change: the listener, route and cluster keep their versions.
  const v2 = createSnapshot({ resources: meshResources({ target, backendPorts: [backend2.port] }) });
  for (const url of [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster]) assert.equal(v2.typeVersion(url), v1.typeVersion(url));
  assert.notEqual(v2.typeVersion(TypeUrl.Endpoint), v1.typeVersion(TypeUrl.Endpoint));
  const responsesBefore = xds.events.responses.length;
  await xds.cache.setSnapshot(nodeId, v2);
  await waitUntil(async () => (await caller.call()) === "backend-2", { timeoutMs: 10_000, intervalMs: 100, description: "calls reach backend-2", onTimeout: diagnostics });
  for (let i = 0; i < 5; i++) assert.equal(await caller.call(), "backend-2", "once moved, calls stay on backend-2");

  await waitUntil(() => ackedAll(xds, v2), { timeoutMs: 5000, description: "the gRPC client ACKed v2", onTimeout: diagnostics });
  const pushed = xds.events.responses.slice(responsesBefore).map((r) => r.typeUrl);
  assert.deepEqual(pushed, [TypeUrl.Endpoint], "an EDS-only change is one EDS response, nothing resent");
  assert.deepEqual(xds.events.nacks, []);
  const callsOn1 = backend1.calls();
  assert.equal(await caller.call(), "backend-2");
  assert.equal(backend1.calls(), callsOn1, "backend-1 gets nothing after the switch");
});

test("an assignment grpc-js-xds rejects is NACKed with its reason in status, and calls keep the last good endpoints", async (t) => {
  const backend1 = await startEchoBackend({ name: "backend-1" });
  t.after(() => backend1.stop());
  const xds = await startXdsServer({ t });
  const good = createSnapshot({ resources: meshResources({ target, backendPorts: [backend1.port] }) });
  await xds.cache.setSnapshot(nodeId, good);
  const caller = await startGrpcXdsCaller({ target, xdsPort: xds.port, nodeId, t });
  const diagnostics = () => `status:\n${statusLines(xds)}\ngrpc client stderr tail:\n${caller.stderr().slice(-4000)}`;
  assert.equal(await waitUntil(() => caller.call({ timeoutMs: 3000 }), { timeoutMs: 15_000, intervalMs: 200, description: "a first call", onTimeout: diagnostics }), "backend-1");
  await waitUntil(() => ackedAll(xds, good), { timeoutMs: 5000, description: "the good config ACKed", onTimeout: diagnostics });

  // gRPC requires a locality on every endpoint group (Envoy does not): it must
  // reject this, and only this, resource.
  const names = meshNames(target);
  const noLocality = create(ClusterLoadAssignmentSchema, {
    clusterName: names.cluster,
    endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: "endpoint", value: { address: { address: { case: "socketAddress", value: { address: "127.0.0.1", portSpecifier: { case: "portValue", value: 9 } } } } } } }] }],
  });
  const bad = createSnapshot({ resources: [...meshResources({ target, backendPorts: [backend1.port] }).filter((r) => r.$typeName !== ClusterLoadAssignmentSchema.typeName), noLocality] });
  await xds.cache.setSnapshot(nodeId, bad);
  const eds = await waitUntil(
    () => {
      const e = xds.server.status.node(nodeId)?.types.find((x) => x.typeUrl === TypeUrl.Endpoint);
      return e?.nacked ? e : undefined;
    },
    { timeoutMs: 5000, description: "the gRPC client NACKed the assignment", onTimeout: diagnostics },
  );
  assert.equal(eds.lastNack?.version, bad.typeVersion(TypeUrl.Endpoint), "status names the rejected version");
  assert.equal(eds.ackedVersion, good.typeVersion(TypeUrl.Endpoint), "and keeps the last accepted one");
  assert.match(eds.lastNack?.message ?? "", /locality/, "with gRPC's reason");
  assert.equal(xds.events.nacks.length, 1);
  assert.equal(xds.events.nacks[0]?.typeUrl, TypeUrl.Endpoint);

  // The rejected config does not take traffic down, and the server does not
  // resend it in a loop.
  for (let i = 0; i < 5; i++) assert.equal(await caller.call(), "backend-1");
  const responses = xds.events.responses.length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(xds.events.responses.length, responses, "nothing is resent after the NACK");

  // A fixed config is accepted again.
  // (Status already shows the good version as ACKed, so wait for the new ACK event itself.)
  const acksBefore = xds.events.acks.length;
  await xds.cache.setSnapshot(nodeId, good);
  await waitUntil(() => xds.events.acks.slice(acksBefore).some((a) => a.typeUrl === TypeUrl.Endpoint && a.version === good.typeVersion(TypeUrl.Endpoint)), {
    timeoutMs: 5000,
    description: "the good assignment ACKed again",
    onTimeout: diagnostics,
  });
  assert.ok(ackedAll(xds, good));
  assert.equal(await caller.call(), "backend-1");
});
