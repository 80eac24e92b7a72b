// The prom-client metrics of the xDS server, driven by raw clients on the
// wire against the real server: each counter moves by exactly what happened.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { createXdsServer, type XdsServer } from "../server/xds-server.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { createXdsMetrics } from "./create-xds-metrics.ts";

const CDS = "envoy.config.cluster.v3.Cluster";

/** The value of one series (a histogram's `_count` and `_sum` by their full names); 0 when absent. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      const full = (v as { metricName?: string }).metricName ?? metric.name;
      if (full !== name) continue;
      if (Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l)) return v.value;
    }
  }
  return 0;
}

const clusters = (port: number, names: readonly string[] = ["c1"]): Snapshot =>
  createSnapshot({ resources: [...names.map((n) => edsCluster(n)), ...names.map((n) => endpoints(n, [port]))] });

describe("createXdsMetrics", () => {
  let cache: SnapshotCache;
  let server: XdsServer;
  let registry: Registry;
  let port: number;
  const bytesSeen = { sotw: 0, delta: 0 };

  before(async () => {
    cache = createSnapshotCache({ nodeKey: (node) => `group-of-${node.id}` });
    registry = new Registry();
    server = createXdsServer({
      cache,
      metrics: createXdsMetrics({ registry, prefix: "test_", groupOf: (key) => key }),
      hooks: { onResponse: (e) => void (bytesSeen[e.variant] += e.bytes) },
    });
    port = await server.listen({ port: 0 });
  });
  after(async () => {
    await server.close({ graceMs: 100 });
  });

  test("registers every metric under the prefix, and refuses to register twice in one registry", () => {
    const names = createXdsMetrics({ registry: new Registry(), prefix: "x_" }).names;
    assert.ok(names.length > 0 && names.every((n) => n.startsWith("x_xds_")), names.join(", "));
    assert.throws(() => createXdsMetrics({ registry, prefix: "test_" }), /already been registered/);
  });

  test("SotW: a change and its ACK move responses, ACKs and the convergence histogram by one; a NACK moves NACKs only", async () => {
    const group = { type: CDS, group: "group-of-s1" };
    await cache.setSnapshot("group-of-s1", clusters(8080));
    const c = new RawXdsClient({ port, nodeId: "s1" });
    try {
      c.send({ typeUrl: TypeUrl.Cluster });
      const first = await c.next();
      c.ack(first);
      await waitFor(async () => (await value(registry, "test_xds_acks_total", group)) === 1);
      assert.equal(await value(registry, "test_xds_connected_proxies", { group: "group-of-s1", variant: "sotw" }), 1);
      assert.equal(await value(registry, "test_xds_stream_opens_total", { variant: "sotw" }), 1);
      // A first response is a subscription, not a change: no convergence figure.
      assert.equal(await value(registry, "test_xds_convergence_seconds_count", group), 0);

      await cache.setSnapshot("group-of-s1", clusters(8080, ["c1", "c2"]));
      const second = await c.next();
      assert.equal(await value(registry, "test_xds_responses_total", { type: CDS, variant: "sotw" }), 2);
      assert.equal(await value(registry, "test_xds_resources_sent_total", { type: CDS, variant: "sotw" }), 3);
      // Sent is not converged: the histogram waits for the ACK.
      assert.equal(await value(registry, "test_xds_convergence_seconds_count", group), 0);
      c.ack(second);
      await waitFor(async () => (await value(registry, "test_xds_convergence_seconds_count", group)) === 1);
      assert.equal(await value(registry, "test_xds_acks_total", group), 2);
      assert.ok((await value(registry, "test_xds_convergence_seconds_sum", group)) > 0);

      await cache.setSnapshot("group-of-s1", clusters(8080, ["c3"]));
      const third = await c.next();
      c.send({ typeUrl: TypeUrl.Cluster, versionInfo: second.versionInfo, responseNonce: third.nonce, errorMessage: "rejected for the test" });
      await waitFor(async () => (await value(registry, "test_xds_nacks_total", group)) === 1);
      assert.equal(await value(registry, "test_xds_acks_total", group), 2);
      assert.equal(await value(registry, "test_xds_convergence_seconds_count", group), 1);
      assert.equal(await value(registry, "test_xds_response_bytes_total", { type: CDS, variant: "sotw" }), bytesSeen.sotw);
    } finally {
      c.close();
    }
    await waitFor(async () => (await value(registry, "test_xds_stream_closes_total", { variant: "sotw" })) === 1);
    assert.equal(await value(registry, "test_xds_connected_proxies", { group: "group-of-s1", variant: "sotw" }), 0);
  });

  test("Delta: a change's ACK is timed, the first response's is not", async () => {
    const group = { type: CDS, group: "group-of-d1" };
    await cache.setSnapshot("group-of-d1", clusters(8080));
    const c = new RawDeltaClient({ port, nodeId: "d1" });
    try {
      c.send({ typeUrl: TypeUrl.Cluster, subscribe: ["*"] });
      c.ack(await c.next());
      await waitFor(async () => (await value(registry, "test_xds_acks_total", group)) === 1);
      assert.equal(await value(registry, "test_xds_connected_proxies", { group: "group-of-d1", variant: "delta" }), 1);
      assert.equal(await value(registry, "test_xds_convergence_seconds_count", group), 0);
      await cache.setSnapshot("group-of-d1", clusters(8081, ["c1", "c9"]));
      const change = await c.next();
      assert.equal(await value(registry, "test_xds_resources_sent_total", { type: CDS, variant: "delta" }), 2);
      c.ack(change);
      await waitFor(async () => (await value(registry, "test_xds_convergence_seconds_count", group)) === 1);
      await cache.setSnapshot("group-of-d1", clusters(8081, ["c1"]));
      c.nack(await c.next(), "rejected for the test");
      await waitFor(async () => (await value(registry, "test_xds_nacks_total", group)) === 1);
      assert.equal(await value(registry, "test_xds_convergence_seconds_count", group), 1);
      assert.equal(await value(registry, "test_xds_response_bytes_total", { type: CDS, variant: "delta" }), bytesSeen.delta);
    } finally {
      c.close();
    }
    await waitFor(async () => (await value(registry, "test_xds_stream_closes_total", { variant: "delta" })) === 1);
  });

  test("a stream the server ends with an error counts as an error, by gRPC code", async () => {
    const c = new RawXdsClient({ port, nodeId: "bad" });
    try {
      c.send({ typeUrl: "type.googleapis.com/not.a.Type" });
      await waitFor(async () => (await value(registry, "test_xds_stream_errors_total", { variant: "sotw", code: "3" })) === 1);
    } finally {
      c.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the metric");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("the server's load (admission queue, write buffers, stream cap) is read when scraped", { timeout: 60_000 }, async (t) => {
  const cache = createSnapshotCache({ nodeKey: () => "all" });
  await cache.setSnapshot("all", createSnapshot({ resources: [edsCluster("c1"), endpoints("c1", [8080])] }));
  const registry = new Registry();
  const server = createXdsServer({ cache, maxInitialSyncs: 1, maxStreams: 2, metrics: createXdsMetrics({ registry }) });
  const port = await server.listen({ port: 0 });
  const clients = ["first", "second", "third"].map((nodeId) => new RawXdsClient({ port, nodeId }));
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });
  const [first, second, third] = clients as [RawXdsClient, RawXdsClient, RawXdsClient];
  first.send({ typeUrl: TypeUrl.Cluster });
  await first.next();
  second.send({ typeUrl: TypeUrl.Cluster });
  const deadline = Date.now() + 10_000;
  while (server.metrics.queuedStreams !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(await value(registry, "xds_initial_syncs_in_progress"), 1);
  assert.equal(await value(registry, "xds_initial_syncs_queued"), 1);
  third.send({ typeUrl: TypeUrl.Cluster });
  assert.equal((await third.ended).code, 14);
  assert.equal(await value(registry, "xds_streams_refused_total"), 1);
  assert.equal(await value(registry, "xds_streams_shed_total"), 0);
  assert.equal(await value(registry, "xds_buffered_bytes"), server.metrics.bufferedBytes);
  assert.equal(await value(registry, "xds_streams_over_budget"), 0);
});
