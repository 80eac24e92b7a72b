// Issue 12, items 2 and 3 against a real Envoy: `tcp proxy-config` shows what
// the control plane sent (names and versions equal Envoy's /config_dump, the
// TLS private key redacted), and a Listener Envoy cannot bind is the one
// object marked NACKED, with Envoy's message; every other object stays
// acknowledged, in the status report, `tcp get` and `tcp proxy-config`.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { dynamicClusters, dynamicListeners, dynamicRoutes } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { createSelfSignedCert } from "../harness/self-signed-cert.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";

type ProxyConfig = { nodeId: string; resources: { type: string; name: string; version: string; state: string; nack?: { message: string }; config?: unknown }[] };
type Status = {
  nodes: { nodeId: string; state: string }[];
  objects: { object: string; acknowledged: number; targets: number; rejected?: { proxies: number; nacks: { nodeId: string; message: string; named: boolean }[] } }[];
};

const object = (kind: string, name: string, spec: Json) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });

for (const mode of ["sotw", "delta"] as const) {
test(`proxy-config matches Envoy's config_dump; a Listener Envoy cannot bind is the only object NACKED (${mode})`, { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-proxy-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "service1", t });
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const cert = await createSelfSignedCert({ hostname: "127.0.0.1" });
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const server = cp.adminUrl;
  const apply = async (objects: readonly Json[]) => {
    const r = await fetch(`${server}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
    assert.equal(r.status, 200, await r.clone().text());
  };
  await apply([
    object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] }),
    object("Listener", "web", { protocol: "HTTP", address: "127.0.0.1", port: httpPort }),
    object("Listener", "secure", { protocol: "HTTPS", address: "127.0.0.1", port: httpsPort, tls: { certificate: cert.cert, key: cert.key } }),
    object("Route", "all", { listeners: ["web", "secure"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
  ]);
  const bootstrap =
    mode === "sotw"
      ? (xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json)
      : (parse(await (await fetch(`${server}/api/v1/bootstrap?node=edge-1&delta=true&adminPort=0`)).text()) as Json);
  const envoy = await startEnvoy({ bootstrap, name: `cp-proxy-config-${mode}`, t });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${httpPort}/`)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });
  const status = async () => (await (await fetch(`${server}/api/v1/status`)).json()) as Status;
  await waitUntil(async () => (await status()).nodes.find((n) => n.nodeId === "edge-1")?.state === "SYNCED", { timeoutMs: 10_000, description: "edge-1 SYNCED" });

  // proxy-config -o json: names and versions equal what Envoy reports.
  const cli = async (args: string[]) => {
    const r = await runCliProcess(args, { server });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const config = JSON.parse(await cli(["proxy-config", "edge-1", "-o", "json"])) as ProxyConfig;
  const dump = await envoy.configDump();
  const ours = (type: string) => config.resources.filter((r) => r.type === type).map((r) => [r.name, r.version]);
  assert.deepEqual(ours("clusters"), dynamicClusters(dump).map((c) => [c.name, c.versionInfo]));
  assert.deepEqual(ours("listeners"), dynamicListeners(dump).map((l) => [l.name, l.versionInfo]).sort());
  assert.deepEqual(ours("routes"), dynamicRoutes(dump).map((r) => [r.name, r.versionInfo]).sort());
  assert.ok(config.resources.every((r) => r.state === "ACKED"), JSON.stringify(config.resources.map((r) => [r.name, r.state])));
  const text = JSON.stringify(config);
  assert.ok(!text.includes("PRIVATE KEY"), "the TLS private key is not shown");
  assert.match(text, /"private_key":\{"inline_string":"<redacted sha256:[0-9a-f]{12}>"\}/);
  const yaml = await cli(["proxy-config", "edge-1", "listeners", "-o", "yaml"]);
  assert.ok(!yaml.includes("PRIVATE KEY") && yaml.includes("<redacted sha256:"), "redacted in yaml too");
  assert.match(await cli(["proxy-config", "edge-1", "clusters"]), /^node edge-1 .*\nTYPE +NAME +VERSION +STATUS +OBJECTS\nclusters +backend +\S+ +ACKED +Service\/backend\n$/);

  // A listener on a port another process holds: valid configuration, Envoy cannot bind it.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const heldPort = (holder.address() as { port: number }).port;
  await apply([object("Listener", "tcp_busy", { protocol: "TCP", address: "127.0.0.1", port: heldPort, service: "backend" })]);
  const rejected = await waitUntil(
    async () => {
      const s = await status();
      return s.objects.find((o) => o.object === "Listener/tcp_busy" && o.rejected !== undefined) === undefined ? undefined : s;
    },
    { timeoutMs: 10_000, description: "Listener/tcp_busy rejected", onTimeout: () => envoy.logs(30) },
  );
  const busy = rejected.objects.find((o) => o.object === "Listener/tcp_busy");
  t.diagnostic(`Envoy's message: ${busy?.rejected?.nacks[0]?.message}`);
  assert.equal(busy?.rejected?.proxies, 1);
  assert.equal(busy?.rejected?.nacks[0]?.nodeId, "edge-1");
  assert.equal(busy?.rejected?.nacks[0]?.named, true, "Envoy's message names the listener");
  assert.match(busy?.rejected?.nacks[0]?.message ?? "", /tcp_busy.*(bind|address)/i);
  assert.equal(busy?.acknowledged, 0);
  const others = rejected.objects.filter((o) => o.object !== "Listener/tcp_busy");
  assert.deepEqual(
    others.map((o) => [o.object, `${o.acknowledged}/${o.targets}`, o.rejected]),
    ["Listener/secure", "Listener/web", "Route/all", "Service/backend"].map((k) => [k, "1/1", undefined]),
  );

  // tcp get: the STATUS column points at the one object.
  const get = await cli(["get"]);
  assert.match(get, /Listener\/tcp_busy +\d+ +\S+ +NACKED by 1\n/);
  for (const k of ["Listener/secure", "Listener/web", "Route/all", "Service/backend"]) assert.match(get, new RegExp(`${k} +\\d+ +\\S+ +1/1\\n`));
  const statusText = await cli(["status"]);
  assert.match(statusText, /Listener\/tcp_busy rejected by edge-1 \(LDS: tcp_busy\): .*tcp_busy/);

  // proxy-config: tcp_busy NACKED with Envoy's message, the listeners Envoy applied ACKED.
  const listeners = JSON.parse(await cli(["proxy-config", "edge-1", "listeners", "-o", "json"])) as ProxyConfig;
  assert.deepEqual(listeners.resources.map((r) => [r.name, r.state]), [["secure", "ACKED"], ["tcp_busy", "NACKED"], ["web", "ACKED"]]);
  assert.match(listeners.resources[1]?.nack?.message ?? "", /tcp_busy/);
  const after = await envoy.configDump();
  const applied = dynamicListeners(after).filter((l) => l.state === "active").map((l) => [l.name, l.versionInfo]);
  assert.deepEqual(listeners.resources.filter((r) => r.state === "ACKED").map((r) => [r.name, r.version]), applied.sort());

  // Fixed: every object acknowledged again.
  assert.equal((await fetch(`${server}/api/v1/objects/Listener/tcp_busy`, { method: "DELETE", headers: { "content-type": "application/json" } })).status, 200);
  await waitUntil(async () => (await status()).objects.every((o) => o.rejected === undefined && o.acknowledged === o.targets && o.targets === 1), {
    timeoutMs: 10_000,
    description: "every object 1/1 after the fix",
  });
});
}
