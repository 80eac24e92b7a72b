import { test } from "node:test";
import assert from "node:assert/strict";
import type { ModelObject } from "../model/model-object.ts";
import { validateObject, type ValidObject } from "../model/validate-object.ts";
import { buildGraph } from "./build-graph.ts";

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });

function graphOf(objects: ModelObject[]) {
  const valid: ValidObject[] = [];
  for (const x of objects) {
    const v = validateObject(x);
    assert.deepEqual(v.diagnostics, [], `${x.kind}/${x.metadata.name} is valid on its own`);
    if (v.valid) valid.push(v.valid);
  }
  return buildGraph(valid, { refused: new Set() });
}

const http = (name: string, port: number) => o("Listener", name, { protocol: "HTTP", port });
const svc = (name: string) => o("Service", name, { endpoints: [{ address: "127.0.0.1", port: 8081 }] });
const route = (name: string, listeners: string[], service: string, domains = ["*"]) =>
  o("Route", name, { listeners, domains, routes: [{ match: { prefix: "/" }, backends: [{ service }] }] });

test("references are resolved and defaults applied into the intermediate form", () => {
  const g = graphOf([http("l", 10000), svc("web"), route("r", ["l"], "web")]);
  assert.deepEqual(g.diagnostics, []);
  const group = g.graph.groups[0];
  assert.equal(group?.name, "default");
  const l = group?.listeners[0];
  assert.equal(l?.address, "0.0.0.0");
  assert.deepEqual(l?.requestId, { generate: true, preserveExternal: false });
  assert.deepEqual(l?.virtualHosts.map((v) => [v.name, v.domains]), [["r", ["*"]]]);
  assert.equal(group?.services[0]?.spec.connectTimeoutMs, 5000);
  assert.equal(group?.services[0]?.spec.lbPolicy, "RoundRobin");
});

test("the same port in two node groups is no conflict; in one group it is, and the later name loses", () => {
  const objects = [
    http("a", 10000),
    http("b", 10000),
    o("NodeGroup", "ga", { selector: { clusters: ["a"] }, listeners: ["a"] }),
    o("NodeGroup", "gb", { selector: { clusters: ["b"] }, listeners: ["b"] }),
  ];
  const errors = (g: ReturnType<typeof graphOf>) => g.diagnostics.filter((d) => d.severity === "error");
  assert.deepEqual(errors(graphOf(objects)), []);
  const together = graphOf([...objects, o("NodeGroup", "all", { selector: {}, listeners: ["b", "a"] })]);
  assert.deepEqual(
    errors(together).map((d) => [d.object, d.code]),
    [
      ["Listener/b", "listener.port_conflict"],
      ["NodeGroup/all", "ref.rejected"],
      ["NodeGroup/gb", "ref.rejected"],
    ],
  );
  assert.deepEqual([...together.rejected].sort(), ["Listener/b", "NodeGroup/all", "NodeGroup/gb"]);
  assert.deepEqual(together.graph.groups.map((g) => g.name), ["ga"]);
});

test("a domain conflict is settled by name, whatever the input order", () => {
  const a = route("a", ["l"], "web", ["x.com"]);
  const b = route("b", ["l"], "web", ["y.com", "X.com"]);
  for (const objects of [[http("l", 1), svc("web"), a, b], [b, svc("web"), a, http("l", 1)]]) {
    const g = graphOf(objects);
    assert.deepEqual(g.diagnostics.map((d) => [d.object, d.path]), [["Route/b", "spec.domains[1]"]]);
    assert.deepEqual(g.graph.groups[0]?.listeners[0]?.virtualHosts.map((v) => v.name), ["a"]);
  }
});

test("warnings: a listener without routes, consistent hashing with nothing to hash on", () => {
  const ring = o("Service", "ring", { lbPolicy: "RingHash", endpoints: [{ address: "127.0.0.1", port: 1 }] });
  const g = graphOf([http("idle", 1), http("l", 2), ring, route("r", ["l"], "ring")]);
  assert.deepEqual(
    g.diagnostics.map((d) => [d.severity, d.code, d.object, d.path, d.hint]),
    [
      ["warning", "route.no_hash_policy", "Route/r", "spec.routes[0]", "add hashOn (header, cookie, queryParameter or sourceIp: true) to this route, or use lbPolicy: RoundRobin"],
      ["warning", "listener.no_routes", "Listener/idle", "spec", "add a Route with listeners: [idle]"],
    ],
  );
  assert.deepEqual([...g.rejected], [], "warnings refuse nothing");
  const hashed = o("Route", "r", { listeners: ["l"], routes: [{ match: { prefix: "/" }, hashOn: { sourceIp: true }, backends: [{ service: "ring" }] }] });
  assert.deepEqual(graphOf([http("l", 2), ring, hashed]).diagnostics, []);
});

test("a group with a listener list gets only what its listeners reach; a whole group gets every service", () => {
  const objects = [http("l", 1), svc("used"), svc("spare"), route("r", ["l"], "used")];
  assert.deepEqual(graphOf(objects).graph.groups[0]?.services.map((s) => s.name), ["spare", "used"]);
  const scoped = graphOf([...objects, o("NodeGroup", "g", { selector: {}, listeners: ["l"] })]);
  assert.deepEqual(scoped.graph.groups[0]?.services.map((s) => s.name), ["used"]);
  assert.deepEqual(scoped.graph.groups[0]?.objects, ["Listener/l", "NodeGroup/g", "Route/r", "Service/used"]);
});

test("two raw resources with one name: the later by object name is refused", () => {
  const raw = (name: string) =>
    o("RawResource", name, { resource: { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "same", connect_timeout: "1s" } });
  const g = graphOf([raw("z"), raw("a")]);
  assert.deepEqual(g.diagnostics.map((d) => [d.object, d.code, d.hint]), [["RawResource/z", "raw.name_conflict", "rename the raw resource, or remove RawResource/a"]]);
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["a"]);
});
