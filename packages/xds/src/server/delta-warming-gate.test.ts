import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeResource } from "../resource/encoded-resource.ts";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { endpointsToAwait, WarmingGate } from "./delta-warming-gate.ts";

test("the gate opens once every awaited name was delivered, handing back the held types", () => {
  const opened: (readonly string[])[] = [];
  const gate = new WarmingGate({ waitMs: 60_000, onOpen: (held) => opened.push(held) });
  gate.await(["a", "b"]);
  gate.hold("rds");
  gate.delivered(["a"]);
  assert.equal(gate.closed, true);
  gate.delivered(["b", "unrelated"]);
  assert.equal(gate.closed, false);
  assert.deepEqual(opened, [["rds"]]);
  gate.dispose();
});

test("the gate opens by itself after waitMs when the client never asks", async () => {
  const opened: (readonly string[])[] = [];
  const gate = new WarmingGate({ waitMs: 30, onOpen: (held) => opened.push(held) });
  gate.await(["a"]);
  gate.hold("lds");
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(opened, [["lds"]]);
});

test("endpoints to await: referenced by the clusters, present in the cache, not held at that version", () => {
  const clusters = [encodeResource(ClusterSchema, edsCluster("c1")), encodeResource(ClusterSchema, edsCluster("c2", { serviceName: "svc2" })), encodeResource(ClusterSchema, edsCluster("c3"))];
  const cla = (n: string, port = 1) => encodeResource(ClusterLoadAssignmentSchema, endpoints(n, [port]));
  const available = new Map([["c1", cla("c1")], ["svc2", cla("svc2")]]);
  assert.deepEqual(endpointsToAwait(clusters, available, new Map()), ["c1", "svc2"], "c3 has no endpoints in the cache: nothing to wait for");
  assert.deepEqual(endpointsToAwait(clusters, available, new Map([["c1", cla("c1").version]])), ["svc2"]);
  assert.deepEqual(endpointsToAwait(clusters, available, new Map([["c1", cla("c1", 2).version]])), ["c1", "svc2"], "an old version is awaited again");
});
