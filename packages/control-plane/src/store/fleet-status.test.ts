import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NodeStatus } from "@ts-control-plane/xds";
import { decodeNodeStatus, encodeNodeStatus, type FleetStatus, startFleetStatus } from "./fleet-status.ts";
import { migratedDatabase, startThrowawayPostgres, type ThrowawayPostgres, withPgClient } from "./throwaway-postgres.ts";

let server: ThrowawayPostgres;
before(async () => {
  server = await startThrowawayPostgres();
});
after(() => server?.destroy());

const freshDatabase = (name: string): Promise<string> => migratedDatabase(server, name);

/** Polls every 20 ms for at most 20 s. */
async function eventually(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !fn(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(fn(), `timed out waiting for ${what}`);
}

const proxy = (nodeId: string, streams: number, lastSeen: number): NodeStatus => ({
  nodeId,
  nodeCluster: "edge",
  cacheKey: "group:edge",
  streams,
  firstSeenAt: new Date(1_000),
  connectedAt: new Date(1_000),
  lastSeenAt: new Date(lastSeen),
  types: [
    {
      typeUrl: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      sentVersion: "v1",
      sentNonce: "1",
      sentAt: new Date(2_000),
      ackedVersion: "v1",
      ackedAt: new Date(2_100),
      lastNack: { version: "v0", nonce: "0", message: "bad", code: 3, at: new Date(1_500) },
      nacked: false,
      responses: 2,
      nacks: 1,
      subscribed: ["*"],
    },
  ],
});

const view = (f: FleetStatus) => f.proxies().map((p) => `${p.proxy.nodeId}@${p.replica}${p.proxy.streams > 0 ? "" : "(gone)"}`);

describe("fleet status under leases", () => {
  it("keeps every field of a node's status through the database (dates included, metadata left out)", () => {
    const p = proxy("n", 1, 3_000);
    assert.deepEqual(decodeNodeStatus(encodeNodeStatus(p)), p);
  });

  it("shows every replica's proxies on each; a dead replica's leave when its lease expires; a moved proxy shows under its new replica", async () => {
    const url = await freshDatabase("f1");
    const local = { a: [proxy("n1", 1, 5_000)], b: [proxy("n2", 1, 5_000), proxy("n3", 1, 5_000)] };
    const timing = { leaseMs: 1_500, renewMs: 300, flushMs: 20, refreshMs: 100 };
    const a = await startFleetStatus({ url, replicaId: "a", proxies: () => local.a, ...timing });
    let b = await startFleetStatus({ url, replicaId: "b", proxies: () => local.b, ...timing });
    try {
      await eventually("both replicas to see all three proxies", () => view(a).join() === "n1@a,n2@b,n3@b" && view(b).join() === "n1@a,n2@b,n3@b");
      assert.deepEqual(a.replicas().map((r) => [r.id, r.proxies]), [["a", 1], ["b", 2]]);
      assert.deepEqual(a.proxies().find((p) => p.proxy.nodeId === "n2")?.proxy, local.b[0]);

      // A change is written (batched) and seen elsewhere.
      local.b = [proxy("n2", 1, 6_000)];
      b.changed();
      await eventually("n3 to leave a's view", () => view(a).join() === "n1@a,n2@b");

      // b dies: nothing is cleaned up, its lease runs out.
      await b.close({ release: false });
      await eventually("b's proxies to leave a's view once its lease expired", () => view(a).join() === "n1@a");
      assert.deepEqual(a.replicas().map((r) => r.id), ["a"]);

      // b comes back; n1 left a (a keeps its disconnected record) and reconnected to b.
      local.a = [proxy("n1", 0, 9_000)];
      a.changed();
      local.b = [proxy("n1", 1, 8_000)];
      b = await startFleetStatus({ url, replicaId: "b", proxies: () => local.b, ...timing });
      await eventually("n1 to show under b on both replicas", () => view(a).join() === "n1@b" && view(b).join() === "n1@b");
    } finally {
      await a.close();
      await b.close();
    }
    const left = await withPgClient(url, (c) => c.query("SELECT (SELECT COUNT(*) FROM replica_leases) AS leases, (SELECT COUNT(*) FROM replica_proxies) AS proxies"));
    assert.deepEqual(left.rows[0], { leases: "0", proxies: "0" }, "a graceful stop gives the lease and the rows up");
  });

  it("with the database unreachable for a lease, shows only its own proxies; back, the whole fleet again", async () => {
    const url = await freshDatabase("f2");
    const timing = { leaseMs: 1_500, renewMs: 300, flushMs: 20, refreshMs: 100 };
    const a = await startFleetStatus({ url, replicaId: "a", proxies: () => [proxy("n1", 1, 5_000)], ...timing });
    const b = await startFleetStatus({ url, replicaId: "b", proxies: () => [proxy("n2", 1, 5_000)], ...timing });
    try {
      await eventually("a to see both", () => view(a).join() === "n1@a,n2@b");
      server.stop();
      await eventually("a to show only its own proxy", () => view(a).join() === "n1@a" && a.replicas().length === 0);
      server.start();
      await eventually("a to see both again", () => view(a).join() === "n1@a,n2@b" && a.replicas().length === 2);
    } finally {
      server.start();
      await a.close();
      await b.close();
    }
  });

  it("refuses a renewal that is not shorter than the lease", async () => {
    await assert.rejects(
      () => startFleetStatus({ url: "postgres://nobody@127.0.0.1:1/none", replicaId: "x", proxies: () => [], leaseMs: 1_000, renewMs: 1_000 }),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === "invalid_argument" && e.message.includes("must be shorter than the lease"),
    );
  });
});
