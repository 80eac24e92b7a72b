// Self-test of the real-Envoy harness, with a static bootstrap (no control plane):
// Envoy starts and stops cleanly beside other tests, routes to local upstreams
// (plain and TLS with SNI), and the admin helpers read what it has.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dynamicListeners, staticClusters, staticListeners, type Json } from "./config-dump.ts";
import { freePort, freePorts } from "./free-port.ts";
import { httpGet } from "./http-get.ts";
import { startHttpsUpstream, startHttpUpstream } from "./http-upstream.ts";
import { failedRecords, startRequestLoop } from "./request-loop.ts";
import { startEnvoy } from "./start-envoy.ts";
import { waitUntil, WaitTimeoutError } from "./wait-until.ts";
import { xdsBootstrap } from "./xds-bootstrap.ts";

function staticCluster(name: string, port: number, options: { tlsSni?: string } = {}): Json {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }],
    },
    ...(options.tlsSni === undefined
      ? {}
      : {
          transport_socket: {
            name: "envoy.transport_sockets.tls",
            typed_config: { "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", sni: options.tlsSni },
          },
        }),
  };
}

function staticListener(name: string, port: number, cluster: string, options: { hostRewrite?: string } = {}): Json {
  return {
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: name,
              route_config: {
                name: `${name}_routes`,
                virtual_hosts: [
                  {
                    name: "all",
                    domains: ["*"],
                    routes: [
                      {
                        match: { prefix: "/" },
                        route: { cluster, ...(options.hostRewrite === undefined ? {} : { host_rewrite_literal: options.hostRewrite }) },
                      },
                    ],
                  },
                ],
              },
              http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
            },
          },
        ],
      },
    ],
  };
}

test("free ports of one call are distinct and bindable", async () => {
  const ports = await freePorts(5);
  assert.equal(new Set(ports).size, 5);
  for (const p of ports) assert.ok(p > 0 && p < 65536);
});

test("waitUntil returns the first truthy value and times out with a clear message", async () => {
  let n = 0;
  assert.equal(await waitUntil(() => (++n >= 3 ? n : undefined), { timeoutMs: 2000, intervalMs: 5 }), 3);
  await assert.rejects(
    waitUntil(
      () => {
        throw new Error("not yet");
      },
      { timeoutMs: 100, intervalMs: 10, description: "the impossible", onTimeout: () => "context here" },
    ),
    (e: unknown) => e instanceof WaitTimeoutError && /the impossible/.test(e.message) && /not yet/.test(e.message) && /context here/.test(e.message),
  );
  // A hung attempt is cut off by the overall bound.
  const t0 = Date.now();
  await assert.rejects(waitUntil(() => new Promise<never>(() => {}), { timeoutMs: 150 }), WaitTimeoutError);
  assert.ok(Date.now() - t0 < 1500);
});

test("a static Envoy routes to local plain and TLS upstreams, and the admin helpers see it", async (t) => {
  const plain = await startHttpUpstream({ name: "plain", t });
  const secure = await startHttpsUpstream({ name: "secure", t });
  const [plainPort, tlsPort] = await freePorts(2);
  const envoy = await startEnvoy({
    name: "harness-static",
    t,
    bootstrap: {
      node: { id: "harness", cluster: "e2e" },
      static_resources: {
        clusters: [staticCluster("plain", plain.port), staticCluster("secure", secure.port, { tlsSni: "localhost" })],
        listeners: [staticListener("plain_in", plainPort!, "plain"), staticListener("tls_in", tlsPort!, "secure", { hostRewrite: "localhost" })],
      },
    },
  });

  const res = await httpGet(`http://127.0.0.1:${plainPort}/hello`);
  assert.equal(res.status, 200);
  assert.equal(res.body, "served by plain\n");
  assert.equal(plain.requests.at(-1)?.path, "/hello");

  const tls = await httpGet(`http://127.0.0.1:${tlsPort}/x`);
  assert.equal(tls.body, "served by secure\n");
  assert.deepEqual(secure.requests.at(-1), { method: "GET", path: "/x", host: "localhost", sni: "localhost" });

  const dump = await envoy.configDump();
  assert.deepEqual(staticListeners(dump).map((l) => l.name).sort(), ["plain_in", "tls_in"]);
  assert.deepEqual(staticClusters(dump).map((c) => c.name).sort(), ["plain", "secure"]);
  assert.deepEqual(dynamicListeners(dump), []);
  const listenerStats = await envoy.stats("^http\\.plain_in\\.downstream_rq_2xx$");
  assert.equal(listenerStats.get("http.plain_in.downstream_rq_2xx"), 1);
  assert.equal((await envoy.serverInfo())["state"], "LIVE");

  const loop = startRequestLoop({ url: `http://127.0.0.1:${plainPort}/`, maxRequests: 20, maxDurationMs: 5000, intervalMs: 5 });
  const records = await loop.finished();
  assert.equal(records.length, 20);
  assert.deepEqual(failedRecords(records), []);
  assert.ok(records.every((r) => r.body === "served by plain\n"));

  await envoy.stop();
  assert.equal(envoy.running(), false);
  await assert.rejects(httpGet(`${envoy.adminUrl}/ready`, { timeoutMs: 1000 }));
});

test("a request loop stops by itself at its bounds and reports failures", async () => {
  const port = await freePort(); // nothing listens there
  const loop = startRequestLoop({ url: `http://127.0.0.1:${port}/`, maxRequests: 5, maxDurationMs: 5000, intervalMs: 1 });
  await assert.rejects(loop.next((r) => r.status === 200));
  const records = await loop.finished();
  assert.equal(records.length, 5);
  assert.equal(failedRecords(records).length, 5);
});

test("an xDS bootstrap with no control plane answering still boots to the admin port", async (t) => {
  const xdsPort = await freePort(); // nothing serves xDS: Envoy keeps retrying, and stays INITIALIZING
  const envoy = await startEnvoy({ name: "harness-no-xds", t, readyWhen: "admin", bootstrap: xdsBootstrap({ xdsPort, mode: "ads", nodeId: "n1" }) });
  const info = await envoy.serverInfo();
  assert.notEqual(info["state"], "LIVE");
  await envoy.stop();
});
