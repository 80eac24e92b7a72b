// Issue 13 through the runnable control plane and a real Envoy: with --admin-auth token
// the CLI on the same machine works with no setup (the first admin token in the data
// directory), tokens get roles, changes are recorded under the token's name, and a
// RawResource that would make Envoy read a file on its host is refused while Envoy keeps
// serving its last good configuration.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Json } from "../harness/config-dump.ts";
import { dynamicListeners } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { scenario2Yaml } from "./scenario-files.ts";

const rawFileListener = (port: number) =>
  JSON.stringify({
    apiVersion: "tcp.dev/v1alpha1",
    kind: "RawResource",
    metadata: { name: "leak" },
    spec: {
      resource: {
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        name: "leak",
        address: { socket_address: { address: "127.0.0.1", port_value: port } },
        filter_chains: [
          {
            filters: [
              {
                name: "envoy.filters.network.http_connection_manager",
                typed_config: {
                  "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                  stat_prefix: "leak",
                  route_config: {
                    name: "leak",
                    virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { filename: "/etc/hostname" } } }] }],
                  },
                  http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                },
              },
            ],
          },
        ],
      },
    },
  });

test("admin API tokens: the local CLI needs no setup, roles hold, and a RawResource reading Envoy's files is refused", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-auth-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, "data");
  const service1 = await startHttpUpstream({ name: "service1", t });
  const listenerPort = await freePort();
  const cp = await startControlPlane({ dataDir, extraArgs: ["--admin-auth", "token"], t });
  const server = cp.adminUrl;
  assert.match(cp.logs(), new RegExp(`wrote the first admin token to ${join(dataDir, "admin-token").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.ok(!cp.logs().includes(readFileSync(join(dataDir, "admin-token"), "utf8").trim()), "the token value is never logged");

  // Nobody gets in without a token.
  assert.equal((await fetch(`${server}/api/v1/objects`)).status, 401);

  // The CLI finds the admin token in the data directory, and makes the others.
  const make = async (name: string, role: string) => {
    const r = await runCliProcess(["token", "create", "--name", name, "--role", role, "--data-dir", dataDir], { server });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const ci = await make("ci", "write");
  const reader = await make("dash", "read");

  const file = join(dir, "scenario-2.yaml");
  writeFileSync(file, scenario2Yaml({ listenerPort, upstreamPort: service1.port }));
  const applied = await runCliProcess(["apply", "-f", file, "--token", ci], { server });
  assert.equal(applied.code, 0, applied.stderr);
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-admin-auth", t });
  const url = `http://127.0.0.1:${listenerPort}/`;
  await waitUntil(async () => (await httpGet(url)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });

  // A read token reads, and may not write.
  const status = await runCliProcess(["status", "--token", reader], { server });
  assert.equal(status.code, 0, status.stderr);
  const denied = await runCliProcess(["delete", "Service/example_proxy_cluster", "--token", reader], { server });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /token "dash" has role read; DELETE \/api\/v1\/objects\/Service\/example_proxy_cluster needs role write/);

  // A RawResource naming a file on Envoy's host is refused; Envoy never hears of it.
  const leakPort = await freePort();
  const raw = await runCliProcess(["apply", "-f", "-", "--token", ci], { server, input: rawFileListener(leakPort) });
  assert.equal(raw.code, 1);
  assert.match(raw.stderr, /the Listener makes Envoy read the file "\/etc\/hostname" on its host, which is refused/);
  assert.match(raw.stderr, /--allow-raw-filename/);
  assert.ok(!dynamicListeners(await envoy.configDump()).some((l) => l.name === "leak"), "Envoy was never sent the refused listener");
  assert.equal((await httpGet(url)).body, "served by service1\n");

  // History names the token, not what a header claimed.
  const history = await runCliProcess(["history", "-o", "json", "--token", reader], { server });
  assert.deepEqual((JSON.parse(history.stdout) as { source: string }[]).map((h) => h.source), ["token:ci (cli)"]);
});
