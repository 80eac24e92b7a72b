// Issue 8, parts 4 and 5, through the runnable control plane and a real Envoy:
// examples/control-plane/mixing-raw.yaml serves traffic both ways (a model Route to a
// raw Cluster; a raw Listener on the model listener's route table), and each raw
// resource Envoy would reject (a bound port, bad RE2, a duplicate domain) or that would
// silently break traffic (an unknown cluster or route table) is refused at
// the admin API with its path, before anything is pushed: Envoy's config_dump stays
// exactly as it was and no revision is created.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ConfigDump, Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { startControlPlane } from "./control-plane-process.ts";
import { writeExampleCopy } from "./support/example-copy.ts";

const versions = (d: ConfigDump) => ({
  clusters: dynamicClusters(d).map((c) => [c.name, c.versionInfo]),
  listeners: dynamicListeners(d).map((l) => [l.name, l.versionInfo]),
  routes: dynamicRoutes(d).map((r) => [r.name, r.versionInfo]),
});

const hcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const router = [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }];
const rawObject = (name: string, resource: Record<string, unknown>) => ({ apiVersion: "tcp.dev/v1alpha1", kind: "RawResource", metadata: { name }, spec: { resource } });
const rawListener = (name: string, port: number, routeConfig: string) =>
  rawObject(name, {
    "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: { "@type": hcmType, stat_prefix: name, http_filters: router, rds: { route_config_name: routeConfig, config_source: { ads: {}, resource_api_version: "V3" } } },
          },
        ],
      },
    ],
  });
const rawRoutes = (name: string, match: Record<string, unknown>, cluster: string) =>
  rawObject(name, {
    "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    name,
    virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match, route: { cluster } }] }],
  });

type Refusal = { error: { code: string; message: string; diagnostics: { object: string; code: string; path: string; message: string; hint: string }[] } };

test("mixing model and raw serves traffic; each bad raw resource is refused with its path and Envoy's config_dump is unchanged", { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-raw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "legacy", t });
  const frontPort = await freePort();
  const edgePort = await freePort();
  const confDir = join(dir, "conf");
  mkdirSync(confDir);
  const socket = ["spec", "resource", "address", "socket_address"];
  writeExampleCopy(
    "mixing-raw.yaml",
    [
      { kind: "Listener", name: "front", path: ["spec", "port"], value: frontPort },
      { kind: "Listener", name: "front", path: ["spec", "address"], value: "127.0.0.1" },
      { kind: "RawResource", name: "edge", path: [...socket, "port_value"], value: edgePort },
      { kind: "RawResource", name: "edge", path: [...socket, "address"], value: "127.0.0.1" },
      { kind: "RawResource", name: "legacy", path: ["spec", "resource", "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "port_value"], value: upstream.port },
    ],
    confDir,
  );
  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [confDir], t });
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "raw-1" }) as Json, name: "cp-raw", t });

  // Part 4: the model Route reaches the raw Cluster, and the raw Listener serves the model's route table.
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${frontPort}/`)).body === "served by legacy\n", { timeoutMs: 15_000, description: "model listener -> raw cluster" });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${edgePort}/via-edge`)).body === "served by legacy\n", { timeoutMs: 15_000, description: "raw listener -> model route table" });
  const dump = await envoy.configDump();
  assert.deepEqual(dynamicRoutes(dump).map((r) => r.name), ["front"], "one route table, shared by both listeners");

  const before = versions(dump);
  const revision = async () => ((await (await fetch(`${cp.adminUrl}/healthz`)).json()) as { revision: number }).revision;
  const rev0 = await revision();
  const cases = [
    { what: "a port the model listener holds", object: rawListener("clash", frontPort, "front"), code: "listener.port_conflict", path: "spec.resource.address.socket_address.port_value", message: /is already used by Listener 'front'/ },
    { what: "a regex RE2 rejects", object: rawRoutes("rx", { safe_regex: { regex: "/(?=admin)" } }, "legacy"), code: "raw.invalid_regex", path: "spec.resource.virtual_hosts[0].routes[0].match.safe_regex.regex", message: /not valid RE2/ },
    {
      what: "a domain two virtual hosts claim",
      object: rawObject("twice", {
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        name: "twice",
        virtual_hosts: ["a", "b"].map((name) => ({ name, domains: ["example.com"], routes: [{ match: { prefix: "/" }, route: { cluster: "legacy" } }] })),
      }),
      code: "raw.domain_conflict",
      path: "spec.resource.virtual_hosts[1].domains[0]",
      message: /already served by virtual host 'a'/,
    },
    { what: "a cluster nothing produces", object: rawRoutes("lost", { prefix: "/" }, "nowhere"), code: "raw.dangling_reference", path: "spec.resource.virtual_hosts[0].routes[0].route.cluster", message: /Cluster 'nowhere'/ },
    { what: "a route table nothing produces", object: rawListener("nords", await freePort(), "missing"), code: "raw.dangling_reference", path: "spec.resource.filter_chains[0].filters[0].typed_config.rds.route_config_name", message: /RouteConfiguration 'missing'/ },
  ];
  for (const c of cases) {
    const res = await fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(c.object) });
    assert.equal(res.status, 422, `${c.what}: ${await res.clone().text()}`);
    const body = (await res.json()) as Refusal;
    assert.equal(body.error.code, "refused", c.what);
    const d = body.error.diagnostics.find((x) => x.object === `RawResource/${c.object.metadata.name}`);
    assert.ok(d, `${c.what}: ${JSON.stringify(body.error.diagnostics)}`);
    assert.deepEqual([d.code, d.path], [c.code, c.path], c.what);
    assert.match(d.message, c.message, c.what);
    assert.ok(d.hint.length > 0, c.what);
  }
  // The model Route depends on the raw Cluster now: deleting it would break the route, so it is refused too.
  const del = await fetch(`${cp.adminUrl}/api/v1/objects/RawResource/legacy`, { method: "DELETE", headers: { "content-type": "application/json" } });
  assert.equal(del.status, 422, await del.clone().text());
  assert.match(JSON.stringify(((await del.json()) as Refusal).error.diagnostics), /Route\/front/);
  assert.equal(await revision(), rev0, "no refused change created a revision");
  assert.deepEqual(versions(await envoy.configDump()), before, "Envoy's config_dump is untouched");
  assert.equal((await httpGet(`http://127.0.0.1:${edgePort}/`)).body, "served by legacy\n", "traffic still flows");
});
