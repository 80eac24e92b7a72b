import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { validateObject, type ValidObject } from "../model/validate-object.ts";
import { buildGraph } from "./build-graph.ts";

// Issue 8, part 5: a RawResource is checked like a model object (sockets, RE2, references),
// and part 4: model and raw objects mix (a Route to a raw Cluster, a raw Listener on a
// model listener's route table).

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const raw = (name: string, resource: Record<string, unknown>): ModelObject => o("RawResource", name, { resource });

function graphOf(objects: ModelObject[], changed?: string[]) {
  const valid: ValidObject[] = [];
  for (const x of objects) {
    const v = validateObject(x);
    assert.deepEqual(v.diagnostics, [], `${x.kind}/${x.metadata.name} is valid on its own`);
    if (v.valid) valid.push(v.valid);
  }
  return buildGraph(valid, { refused: new Set(), ...(changed === undefined ? {} : { changed: new Set(changed) }) });
}
const errors = (g: ReturnType<typeof graphOf>) => g.diagnostics.filter((d) => d.severity === "error").map((d) => [d.object, d.code, d.path]);

const T = "type.googleapis.com/envoy.config.";
const hcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const router = [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }];
const hcm = (routing: Record<string, unknown>) => ({ name: "envoy.filters.network.http_connection_manager", typed_config: { "@type": hcmType, stat_prefix: "raw", http_filters: router, ...routing } });
const rds = (routeConfig: string) => hcm({ rds: { route_config_name: routeConfig, config_source: { ads: {}, resource_api_version: "V3" } } });
const rawListener = (name: string, socket: Record<string, unknown>, filters: unknown[] = [rds("rc")], extra: Record<string, unknown> = {}) =>
  raw(name, { "@type": `${T}listener.v3.Listener`, name, address: { socket_address: socket }, filter_chains: [{ filters }], ...extra });
const rawCluster = (name: string) =>
  raw(name, {
    "@type": `${T}cluster.v3.Cluster`,
    name,
    type: "STATIC",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: 8081 } } } }] }] },
  });
const routeConfig = (name: string, route: Record<string, unknown>, match: Record<string, unknown> = { prefix: "/" }) =>
  raw(name, { "@type": `${T}route.v3.RouteConfiguration`, name, virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match, ...route }] }] });
const http = (name: string, port: number, address?: string) => o("Listener", name, { protocol: "HTTP", port, ...(address === undefined ? {} : { address }) });
const svc = (name: string) => o("Service", name, { endpoints: [{ address: "127.0.0.1", port: 8081 }] });
const route = (name: string, listeners: string[], service: string) => o("Route", name, { listeners, domains: ["*"], routes: [{ match: { prefix: "/" }, backends: [{ service }] }] });
const base = [svc("web"), routeConfig("rc", { route: { cluster: "web" } })];

test("a raw Listener on a model listener's port is refused with the path of its port; a model listener keeps it", () => {
  const g = graphOf([...base, http("web", 10000), route("r", ["web"], "web"), rawListener("edge", { address: "127.0.0.1", port_value: 10000 })]);
  assert.deepEqual(errors(g), [["RawResource/edge", "listener.port_conflict", "spec.resource.address.socket_address.port_value"]]);
  assert.equal(g.diagnostics[0]?.message, "127.0.0.1:10000 (TCP) is already used by Listener 'web'");
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["rc"]);
});

test("the object a change adds carries a raw/model port conflict, whichever kind it is", () => {
  const objects = [...base, http("web", 10000), route("r", ["web"], "web"), rawListener("edge", { address: "0.0.0.0", port_value: 10000 })];
  const g = graphOf(objects, ["Listener/web"]);
  assert.deepEqual(errors(g).slice(0, 1), [["Listener/web", "listener.port_conflict", "spec.port"]]);
  assert.equal(g.diagnostics.find((d) => d.code === "listener.port_conflict")?.message, "0.0.0.0:10000 (HTTP) is already used by RawResource 'edge'");
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["edge", "rc"]);
});

test("raw Listeners conflict with each other on any socket they bind; TCP and UDP on one port do not", () => {
  const udp = raw("dns", {
    "@type": `${T}listener.v3.Listener`,
    name: "dns",
    address: { socket_address: { protocol: "UDP", address: "0.0.0.0", port_value: 10000 } },
    listener_filters: [
      {
        name: "envoy.filters.udp_listener.udp_proxy",
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig", stat_prefix: "dns", cluster: "web" },
      },
    ],
  });
  const second = rawListener("b", { address: "0.0.0.0", port_value: 10001 }, [rds("rc")], {
    additional_addresses: [{ address: { socket_address: { address: "127.0.0.2", port_value: 10000 } } }],
  });
  const g = graphOf([...base, rawListener("a", { address: "127.0.0.2", port_value: 10000 }), second, udp]);
  assert.deepEqual(errors(g), [["RawResource/b", "listener.port_conflict", "spec.resource.additional_addresses[0].address.socket_address.port_value"]]);
  assert.equal(g.diagnostics[0]?.message, "127.0.0.2:10000 (TCP) is already used by RawResource 'a'");
});

test("every regex of a raw resource is checked as RE2, at its own path, inside packed filters too", () => {
  const g = graphOf([
    ...base,
    routeConfig("look", { route: { cluster: "web" } }, { safe_regex: { regex: "/(?=x)" } }),
    routeConfig("hdr", { route: { cluster: "web" } }, { prefix: "/", headers: [{ name: "x-v", string_match: { safe_regex: { regex: "a(b" } } }] }),
    rawListener("inl", { address: "0.0.0.0", port_value: 10002 }, [
      hcm({
        route_config: {
          name: "inline",
          virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: "web", regex_rewrite: { pattern: { regex: "(\\d+)\\1" }, substitution: "x" } } }] }],
        },
      }),
    ]),
    routeConfig("fine", { route: { cluster: "web" } }, { safe_regex: { regex: "^/v[0-9]+/.*$" } }),
  ]);
  assert.deepEqual(errors(g), [
    ["RawResource/hdr", "raw.invalid_regex", "spec.resource.virtual_hosts[0].routes[0].match.headers[0].string_match.safe_regex.regex"],
    ["RawResource/inl", "raw.invalid_regex", "spec.resource.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.regex_rewrite.pattern.regex"],
    ["RawResource/look", "raw.invalid_regex", "spec.resource.virtual_hosts[0].routes[0].match.safe_regex.regex"],
  ]);
  assert.equal(g.diagnostics[0]?.message, "regex 'a(b' is not valid RE2: missing closing ); Envoy would reject the whole RouteConfiguration");
  assert.match(g.diagnostics[0]?.hint ?? "", /RE2 syntax/);
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["fine", "rc"]);
});

test("a domain two virtual hosts of one raw route table claim refuses it at the second claim, whatever the case", () => {
  const twice = raw("twice", {
    "@type": `${T}route.v3.RouteConfiguration`,
    name: "twice",
    virtual_hosts: [
      { name: "a", domains: ["Example.com", "*"], routes: [{ match: { prefix: "/" }, route: { cluster: "web" } }] },
      { name: "b", domains: ["other.com", "example.COM"], routes: [{ match: { prefix: "/" }, route: { cluster: "web" } }] },
    ],
  });
  const g = graphOf([...base, twice]);
  assert.deepEqual(errors(g), [["RawResource/twice", "raw.domain_conflict", "spec.resource.virtual_hosts[1].domains[1]"]]);
  assert.equal(g.diagnostics[0]?.message, "domain 'example.COM' is already served by virtual host 'a' of the same RouteConfiguration; Envoy would reject the whole RouteConfiguration");
});

test("a name clash between a raw and a model resource is carried by the object the change adds", () => {
  const objects = [http("front", 10000), route("r", ["front"], "legacy"), rawCluster("legacy"), svc("legacy")];
  // Nothing changed: the model object keeps the name.
  assert.deepEqual(errors(graphOf(objects)), [["RawResource/legacy", "raw.name_conflict", "spec.resource.name"]]);
  // A new Service does not take down the live raw Cluster: it is refused, and the Route keeps sending to the raw Cluster.
  const g = graphOf(objects, ["Service/legacy"]);
  assert.deepEqual(errors(g), [["Service/legacy", "raw.name_conflict", "metadata.name"]]);
  assert.equal(g.diagnostics[0]?.message, "a Cluster named 'legacy' is already produced by RawResource/legacy");
  assert.equal(g.diagnostics[0]?.hint, "rename Service/legacy, or remove RawResource/legacy");
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["legacy"]);
  assert.deepEqual(g.graph.groups[0]?.services, []);
});

test("a raw route or TCP proxy sending to a cluster nothing produces is refused at that field", () => {
  const tcp = rawListener("tcp", { address: "0.0.0.0", port_value: 10003 }, [
    { name: "envoy.filters.network.tcp_proxy", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", stat_prefix: "t", cluster: "gone" } },
  ]);
  const g = graphOf([
    ...base,
    routeConfig("weighted", { route: { weighted_clusters: { clusters: [{ name: "web", weight: 1 }, { name: "web2", weight: 1 }] } } }),
    routeConfig("mirror", { route: { cluster: "web", request_mirror_policies: [{ cluster: "shadow" }] } }),
    tcp,
    rawListener("rdsgone", { address: "0.0.0.0", port_value: 10004 }, [rds("nowhere")]),
  ]);
  assert.deepEqual(errors(g), [
    ["RawResource/mirror", "raw.dangling_reference", "spec.resource.virtual_hosts[0].routes[0].route.request_mirror_policies[0].cluster"],
    ["RawResource/rdsgone", "raw.dangling_reference", "spec.resource.filter_chains[0].filters[0].typed_config.rds.route_config_name"],
    ["RawResource/tcp", "raw.dangling_reference", "spec.resource.filter_chains[0].filters[0].typed_config.cluster"],
    ["RawResource/weighted", "raw.dangling_reference", "spec.resource.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].name"],
  ]);
  const weighted = g.diagnostics.find((d) => d.object === "RawResource/weighted");
  assert.equal(weighted?.message, "the RouteConfiguration sends to Cluster 'web2', which nothing produces");
  assert.equal(weighted?.hint, "add a Service named 'web2' (or a RawResource Cluster), or send to one of: web");
});

test("mixing: a model Route sends to a raw Cluster, and a raw Listener uses a model listener's route table", () => {
  const g = graphOf([
    http("front", 10000),
    rawCluster("legacy"),
    route("r", ["front"], "legacy"),
    rawListener("edge", { address: "0.0.0.0", port_value: 10001 }, [rds("front")]),
  ]);
  assert.deepEqual(errors(g), []);
  const group = g.graph.groups[0];
  assert.deepEqual(group?.raw.map((r) => r.name), ["edge", "legacy"]);
  assert.deepEqual(group?.listeners[0]?.virtualHosts[0]?.rules[0]?.backends.map((b) => b.service), ["legacy"]);
  assert.deepEqual(group?.services, []);
});

test("mixing: a Route to a cluster neither a Service nor a raw Cluster names the ways to fix it; a refused raw Cluster refuses its Route", () => {
  const missing = graphOf([http("front", 10000), route("r", ["front"], "legacy")]);
  assert.deepEqual(errors(missing), [["Route/r", "ref.not_found", "spec.routes[0].backends[0].service"]]);
  assert.equal(missing.diagnostics.find((d) => d.severity === "error")?.hint, "define Service 'legacy'");
  const near = graphOf([http("front", 10000), svc("web"), rawCluster("legacy2"), route("r", ["front"], "legacy")]);
  assert.deepEqual(errors(near), [["Route/r", "ref.not_found", "spec.routes[0].backends[0].service"]]);
  assert.equal(near.diagnostics.find((d) => d.severity === "error")?.hint, "define Service 'legacy' (or a RawResource Cluster named so), or use one of: legacy2, web");
  const refused = graphOf([http("front", 10000), svc("legacy"), o("Service", "other", { endpoints: [{ address: "127.0.0.1", port: 1 }] }), route("r", ["front"], "legacy"), rawCluster("legacy")]);
  // The raw Cluster clashes with the Service's name, so it is refused; the Route still has the Service.
  assert.deepEqual(errors(refused), [["RawResource/legacy", "raw.name_conflict", "spec.resource.name"]]);
});

test("mixing: a model TCP listener sends to a raw Cluster too, in the groups that receive it", () => {
  const tcp = o("Listener", "db", { protocol: "TCP", port: 5432, service: "legacy" });
  assert.deepEqual(errors(graphOf([tcp, rawCluster("legacy")])), []);
  const g = graphOf([tcp, rawCluster("legacy"), o("NodeGroup", "edge", { selector: {}, listeners: ["db"], rawResources: [] })]);
  assert.deepEqual(errors(g), [["Listener/db", "ref.not_in_group", "spec.service"], ["NodeGroup/edge", "ref.rejected", "spec.listeners[0]"]]);
});

test("an EDS Cluster whose endpoints nothing produces is refused at its service_name", () => {
  const eds = raw("eds", { "@type": `${T}cluster.v3.Cluster`, name: "eds", type: "EDS", eds_cluster_config: { service_name: "pool", eds_config: { ads: {} } } });
  assert.deepEqual(errors(graphOf([eds])), [["RawResource/eds", "raw.dangling_reference", "spec.resource.eds_cluster_config.service_name"]]);
});

test("mixing: a node group that does not receive the raw Cluster refuses the Route sending to it there", () => {
  const g = graphOf([
    http("front", 10000),
    rawCluster("legacy"),
    route("r", ["front"], "legacy"),
    o("NodeGroup", "edge", { selector: { clusters: ["edge"] }, listeners: ["front"], rawResources: [] }),
  ]);
  assert.deepEqual(errors(g), [["Route/r", "ref.not_in_group", "spec.routes[0].backends[0].service"]]);
  assert.match(g.diagnostics.find((d) => d.code === "ref.not_in_group")?.message ?? "", /node group 'edge' does not receive/);
});
