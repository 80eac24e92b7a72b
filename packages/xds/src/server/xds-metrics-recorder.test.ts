// XdsServerOptions.metrics takes any recorder: what the server tells it, and
// that a recorder which throws never reaches the stream.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import type { AckDetails, XdsMetricsRecorder } from "./xds-metrics-recorder.ts";
import { createXdsServer } from "./xds-server.ts";

/** Clusters with their endpoints: a consistent snapshot. */
const clusters = (...names: string[]) => createSnapshot({ resources: [...names.map((n) => edsCluster(n)), ...names.map((n) => endpoints(n, [8080]))] });

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 2000; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("a re-keyed stream's new content is a change: its ACK is timed, and the recorder hears the new key", async () => {
  let group = "a";
  const cache = createSnapshotCache({ nodeKey: () => group });
  await cache.setSnapshot("a", clusters("c1"));
  await cache.setSnapshot("b", clusters("c2"));
  const acks: AckDetails[] = [];
  const keys: string[] = [];
  const recorder: XdsMetricsRecorder = {
    streamOpened: (e) => keys.push(e.cacheKey),
    streamRekeyed: (e) => keys.push(e.cacheKey),
    streamClosed: () => {},
    responseSent: () => {},
    acked: (_e, details) => acks.push(details),
    nacked: () => {},
  };
  const server = createXdsServer({ cache, metrics: recorder });
  const port = await server.listen({ port: 0 });
  const c = new RawXdsClient({ port, nodeId: "n1" });
  try {
    c.send({ typeUrl: TypeUrl.Cluster });
    c.ack(await c.next());
    await until(() => acks.length === 1, "the first ACK");
    assert.equal(acks[0]?.convergenceMs, undefined, "a first response confirms no change");
    group = "b";
    server.rekey();
    c.ack(await c.next());
    await until(() => acks.length === 2, "the ACK after the rekey");
    assert.equal(typeof acks[1]?.convergenceMs, "number");
    assert.deepEqual(keys, ["a", "b"]);
  } finally {
    c.close();
    await server.close({ graceMs: 100 });
  }
});

test("a recorder that throws on every event never breaks the stream, status or hooks", async () => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("n2", clusters("c1"));
  const boom = (): never => {
    throw new Error("a broken recorder");
  };
  const hookAcks: string[] = [];
  const server = createXdsServer({
    cache,
    metrics: { streamOpened: boom, streamRekeyed: boom, streamClosed: boom, responseSent: boom, acked: boom, nacked: boom },
    hooks: { onAck: (e) => hookAcks.push(e.version) },
  });
  const port = await server.listen({ port: 0 });
  const c = new RawXdsClient({ port, nodeId: "n2" });
  try {
    c.send({ typeUrl: TypeUrl.Cluster });
    const first = await c.next();
    c.ack(first);
    // Read before the change: otherwise the change's response makes this ACK stale.
    await until(() => hookAcks.length === 1, "the first ACK reaches the hook");
    await cache.setSnapshot("n2", clusters("c1", "c2"));
    const second = await c.next();
    c.ack(second);
    await until(() => hookAcks.length === 2, "both ACKs reach the hook");
    assert.equal(server.status.node("n2")?.types.find((t) => t.typeUrl === TypeUrl.Cluster)?.ackedVersion, second.versionInfo);
  } finally {
    c.close();
    await server.close({ graceMs: 100 });
  }
});
