// Scenario 5 through the runnable control plane, driven only by the admin API:
// an empty control plane gets scenario-5.yaml (ports/addresses rewritten) with
// POST /api/v1/apply, Envoy boots from GET /api/v1/bootstrap, and datagrams
// sent to Envoy's UDP listener reach a local UDP service through the STRICT_DNS
// cluster (answers come back the same way); Envoy's /stats count them.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { dynamicClusters, dynamicListeners, type Json } from "../harness/config-dump.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { startControlPlane } from "./control-plane-process.ts";
import { loopbackListener, writeExampleCopy } from "./support/example-copy.ts";
import { freeUdpPort, startUdpClient, startUdpUpstream } from "./support/udp-upstream.ts";

const datagrams = 20;

test("scenario 5: UDP proxy from scenario-5.yaml applied through the admin API: datagrams reach the upstream and back, Envoy's stats count them", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-s5-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startUdpUpstream({ t });
  const listenerPort = await freeUdpPort();
  // The example as written, except its fixed ports (10000, 5005) become the
  // test's ephemeral ones and the listener stays on loopback.
  const config = writeExampleCopy(
    "scenario-5.yaml",
    [
      { kind: "Listener", name: "listener_0", path: ["spec", "port"], value: listenerPort },
      loopbackListener("listener_0"),
      { kind: "Service", name: "udp_service", path: ["spec", "endpoints", 0, "port"], value: upstream.port },
    ],
    dir,
  );

  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const apply = await fetch(`${cp.adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body: readFileSync(config, "utf8") });
  const applied = (await apply.json()) as { accepted: boolean; revision: number; changes: { key: string; action: string }[] };
  assert.equal(apply.status, 200, JSON.stringify(applied));
  assert.deepEqual(applied.changes.map((c) => `${c.action} ${c.key}`).sort(), ["created Listener/listener_0", "created Service/udp_service"]);

  const boot = await fetch(`${cp.adminUrl}/api/v1/bootstrap?node=udp-1`);
  assert.equal(boot.status, 200);
  const envoy = await startEnvoy({ bootstrap: parse(await boot.text()) as Json, name: "cp-scenario5", t });

  // A UDP listener gives no handshake to wait for: probe until one datagram makes
  // the round trip (the listener may still be binding when Envoy reports LIVE).
  const client = await startUdpClient({ port: listenerPort, t });
  let probes = 0;
  await waitUntil(
    async () => {
      probes++;
      await client.send(`probe-${probes}`);
      return client.answers.some((a) => a.startsWith("ack:probe-"));
    },
    { timeoutMs: 15_000, intervalMs: 200, description: "a datagram through Envoy's UDP listener and back" },
  );
  const payloads = Array.from({ length: datagrams }, (_, i) => `datagram-${i}`);
  for (const p of payloads) await client.send(p);
  await waitUntil(() => payloads.every((p) => upstream.received.includes(p)), {
    timeoutMs: 5000,
    description: `all ${datagrams} datagrams at the upstream`,
    onTimeout: () => `upstream got: ${upstream.received.join(", ")}`,
  });
  await waitUntil(() => payloads.every((p) => client.answers.includes(`ack:${p}`)), {
    timeoutMs: 5000,
    description: `all ${datagrams} answers back at the client`,
    onTimeout: () => `client got: ${client.answers.join(", ")}`,
  });
  assert.deepEqual(
    upstream.received.filter((r) => r.startsWith("datagram-")),
    payloads,
    "payloads arrive intact, once each, in order (one session, loopback)",
  );

  // Envoy's stats on its admin listener count the datagrams both ways: the
  // listener's udp_proxy (downstream) and the cluster's UDP session (upstream).
  // Probes sent before the listener was bound were dropped by the kernel, so
  // what the upstream received (and the client got back) is the expected count.
  const expected = () => ({ forwarded: upstream.received.length, answered: client.answers.length });
  const stats = await waitUntil(
    async () => {
      const s = await envoy.stats("^(udp\\.listener_0\\.|cluster\\.udp_service\\.udp\\.)");
      const e = expected();
      return s.get("udp.listener_0.downstream_sess_rx_datagrams") === e.forwarded && s.get("udp.listener_0.downstream_sess_tx_datagrams") === e.answered && s;
    },
    { timeoutMs: 5000, description: "Envoy's counters match what the upstream and the client saw", onTimeout: () => JSON.stringify(expected()) },
  );
  const { forwarded, answered } = expected();
  t.diagnostic(`probes sent ${probes}; upstream received ${forwarded}, client got ${answered} answers; Envoy stats: ${JSON.stringify(Object.fromEntries(stats))}`);
  assert.ok(forwarded >= datagrams + 1 && answered === forwarded, "every forwarded datagram was answered");
  assert.equal(stats.get("udp.listener_0.downstream_sess_rx_datagrams"), forwarded, "datagrams Envoy received from the client");
  assert.equal(stats.get("cluster.udp_service.udp.sess_tx_datagrams"), forwarded, "datagrams Envoy sent to the upstream");
  assert.equal(stats.get("cluster.udp_service.udp.sess_rx_datagrams"), answered, "datagrams Envoy received from the upstream");
  assert.equal(stats.get("udp.listener_0.downstream_sess_tx_datagrams"), answered, "datagrams Envoy sent back to the client");
  assert.equal(stats.get("cluster.udp_service.udp.sess_tx_errors") ?? 0, 0);

  // What carried them: a UDP listener and the STRICT_DNS cluster of the example.
  const dump = await envoy.configDump();
  const cluster = dynamicClusters(dump).find((c) => c.name === "udp_service");
  assert.equal(cluster?.config["type"], "STRICT_DNS");
  const listener = dynamicListeners(dump).find((l) => l.name === "listener_0");
  assert.equal(listener?.state, "active");
  assert.deepEqual((listener?.config["address"] as Json | undefined)?.["socket_address"], { protocol: "UDP", address: "127.0.0.1", port_value: listenerPort });
  assert.equal(stats.get("udp.listener_0.downstream_sess_total"), 1, "one client address, one session");
  assert.equal(stats.get("udp.listener_0.downstream_sess_no_route") ?? 0, 0);
});
