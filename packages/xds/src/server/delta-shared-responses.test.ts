// Shared initial responses (issue 15 item 1), driven by raw Delta clients on
// the wire against the real server: streams that subscribe alike are sent one
// response assembled once, each still gets exactly its resources and versions,
// and nonces stay unique on every stream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { deltaNames, RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const names = (n: number, prefix = "c"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);

function snapshotOf(clusters: readonly string[], port = 8080): Snapshot {
  return createSnapshot({ resources: [...clusters.map((c) => edsCluster(c)), ...clusters.map((c) => endpoints(c, [port]))] });
}

/** Polls until `check` holds, within a generous bound. */
async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("Delta shared initial responses", () => {
  let cache: SnapshotCache;
  let server: XdsServer;
  let port: number;
  const clients: RawDeltaClient[] = [];
  const connect = (nodeId: string): RawDeltaClient => {
    const c = new RawDeltaClient({ port, nodeId });
    clients.push(c);
    return c;
  };

  before(async () => {
    cache = createSnapshotCache({ nodeKey: (node) => node.id.split("-")[0] ?? "" });
    server = createXdsServer({ cache });
    port = await server.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });

  test("N streams subscribing to the same resources share one assembled response; each gets every resource at its version, with nonces unique on its stream", async () => {
    const clusters = names(300);
    const snapshot = snapshotOf(clusters);
    await cache.setSnapshot("shared", snapshot);
    const m0 = { ...server.deltaMetrics };
    const fleet = Array.from({ length: 12 }, (_, i) => connect(`shared-${i}`));
    for (const c of fleet) c.send({ typeUrl: TypeUrl.Endpoint, subscribe: clusters });
    const expected = snapshot.resources(TypeUrl.Endpoint);
    for (const c of fleet) {
      const r = await c.next(20_000);
      assert.deepEqual(deltaNames(r), clusters);
      for (const resource of r.resources) assert.equal(resource.version, expected.get(resource.name)?.version, resource.name);
      assert.equal(r.systemVersionInfo, snapshot.typeVersion(TypeUrl.Endpoint));
      c.ack(r);
    }
    const m = server.deltaMetrics;
    const written = m.bytesWritten - m0.bytesWritten;
    const assembled = m.bytesAssembled - m0.bytesAssembled;
    assert.equal(m.responsesWritten - m0.responsesWritten, fleet.length);
    // One response assembled for twelve written: not one per stream.
    assert.ok(assembled * 6 < written, `assembled ${assembled} bytes for ${written} written`);
    await until(
      () => server.status.nodes().filter((n) => n.nodeId.startsWith("shared-") && n.types.some((t) => t.typeUrl === TypeUrl.Endpoint && t.ackedVersion === snapshot.typeVersion(TypeUrl.Endpoint))).length === fleet.length,
      "every stream's ACK of the shared response",
    );

    // A change afterwards: each stream's next nonce differs from the ones it had, and the change is one resource.
    const moved = snapshotOf(clusters, 9090);
    const changed = createSnapshot({ resources: [...snapshot.resources(TypeUrl.Cluster).values(), ...snapshot.resources(TypeUrl.Endpoint).values()].filter((r) => r.name !== clusters[0]).concat([moved.resources(TypeUrl.Endpoint).get(clusters[0] as string) ?? assert.fail("moved")]) });
    // Keep CDS as is; the first assignment moved.
    await cache.setSnapshot("shared", changed);
    for (const c of fleet) {
      const r = await c.next(20_000);
      assert.deepEqual(deltaNames(r), [clusters[0]]);
      const nonces = c.responses.map((x) => x.nonce);
      assert.equal(new Set(nonces).size, nonces.length, `nonces unique on the stream: ${nonces.join(", ")}`);
      c.ack(r);
    }
  });

  test("a client reconnecting with initial_resource_versions is sent only what differs, shared with the clients in the same state", async () => {
    const clusters = names(200, "r");
    const snapshot = snapshotOf(clusters);
    await cache.setSnapshot("reconnect", snapshot);
    const held = snapshot.resources(TypeUrl.Endpoint);
    // They hold every assignment but the first ten at the current version, and those at an older one.
    const initialResourceVersions = Object.fromEntries(clusters.map((name, i) => [name, i < 10 ? "old" : (held.get(name)?.version ?? "")]));
    const m0 = { ...server.deltaMetrics };
    const fleet = Array.from({ length: 6 }, (_, i) => connect(`reconnect-${i}`));
    for (const c of fleet) c.send({ typeUrl: TypeUrl.Endpoint, subscribe: clusters, initialResourceVersions });
    for (const c of fleet) {
      const r = await c.next(20_000);
      assert.deepEqual(deltaNames(r), clusters.slice(0, 10));
      for (const resource of r.resources) assert.equal(resource.version, held.get(resource.name)?.version);
      assert.deepEqual(r.removedResources, []);
    }
    const m = { ...server.deltaMetrics };
    assert.equal(m.resourcesWritten - m0.resourcesWritten, 6 * 10);
    // Six streams, each with its own copy of initial_resource_versions, share one assembled response.
    const assembled = m.bytesAssembled - m0.bytesAssembled;
    const written = m.bytesWritten - m0.bytesWritten;
    assert.ok(assembled * 3 < written, `assembled ${assembled} bytes for ${written} written`);
    // And one holding nothing gets everything, in a response of its own state.
    const fresh = connect("reconnect-fresh");
    fresh.send({ typeUrl: TypeUrl.Endpoint, subscribe: clusters });
    assert.deepEqual(deltaNames(await fresh.next(20_000)), clusters);
    assert.equal(server.deltaMetrics.resourcesWritten - m.resourcesWritten, 200);
  });

  test("explicit and wildcard subscriptions never share; a name that does not exist is reported removed to each stream once", async () => {
    const clusters = names(20, "w");
    await cache.setSnapshot("wild", snapshotOf(clusters));
    await cache.setSnapshot("explicit", snapshotOf(clusters));
    const wild = [connect("wild-1"), connect("wild-2")];
    for (const c of wild) c.send({ typeUrl: TypeUrl.Cluster });
    for (const c of wild) assert.deepEqual(deltaNames(await c.next(20_000)), clusters);
    const explicit = [connect("explicit-1"), connect("explicit-2")];
    for (const c of explicit) c.send({ typeUrl: TypeUrl.Cluster, subscribe: ["w0001", "missing"] });
    for (const c of explicit) {
      const r = await c.next(20_000);
      assert.deepEqual(deltaNames(r), ["w0001"]);
      assert.deepEqual(r.removedResources, ["missing"]);
      c.ack(r);
      await c.expectNone(200);
    }
  });

  test("SotW: the initial responses of streams asking alike are one body, encoded once, written to each", async () => {
    const clusters = names(200, "sotw");
    const snapshot = snapshotOf(clusters);
    await cache.setSnapshot("sotw", snapshot);
    const m0 = { ...server.metrics };
    const fleet = Array.from({ length: 8 }, (_, i) => new RawXdsClient({ port, nodeId: `sotw-${i}` }));
    try {
      for (const c of fleet) c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: clusters });
      for (const c of fleet) {
        const r = await c.next(20_000);
        assert.equal(r.resources.length, clusters.length);
        assert.equal(r.versionInfo, snapshot.typeVersion(TypeUrl.Endpoint));
      }
      const m = server.metrics;
      assert.equal(m.bodiesEncoded - m0.bodiesEncoded, 1, "one body for eight streams");
      assert.equal(m.responsesWritten - m0.responsesWritten, fleet.length);
      assert.ok((m.bodyBytesEncoded - m0.bodyBytesEncoded) * 6 < m.bytesWritten - m0.bytesWritten);
    } finally {
      for (const c of fleet) c.close();
    }
  });
});
