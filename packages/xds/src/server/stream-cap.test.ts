// The stream cap (issue 10 item 6): new streams over it are refused with
// UNAVAILABLE, and lowering it at runtime sheds the oldest streams first, a
// few at a time, with UNAVAILABLE (retryable: Envoy reconnects, elsewhere when
// it can), recorded in metrics and status.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { serveForTest, until } from "../../testing/serve-for-test.ts";
import { createXdsServer } from "./xds-server.ts";

test("over maxStreams new streams are refused; setMaxStreams lower sheds the oldest first with UNAVAILABLE", { timeout: 60_000 }, async (t) => {
  const cache = createSnapshotCache({ nodeKey: () => "all" });
  await cache.setSnapshot("all", createSnapshot({ skipConsistencyCheck: true, version: "v1", resources: [encodeResource(ClusterSchema, create(ClusterSchema, { name: "c1" }))] }));
  const closed: string[] = [];
  const { server, port, client } = await serveForTest(t, { cache, maxStreams: 3, shedStreamsPerSecond: 5, hooks: { onStreamClose: (e) => closed.push(e.nodeId) } });
  const connect = async (nodeId: string): Promise<RawXdsClient> => {
    const c = client(new RawXdsClient({ port, nodeId }));
    c.send({ typeUrl: TypeUrl.Cluster });
    return c;
  };
  const open = [];
  for (const id of ["oldest", "middle", "newest"]) {
    const c = await connect(id);
    c.ack(await c.next(5000));
    open.push(c);
  }
  const refused = await connect("one-too-many");
  const refusal = await refused.ended;
  assert.equal(refusal.code, 14, "UNAVAILABLE: Envoy retries");
  assert.match(refusal.details, /at its stream cap \(3\) and refuses new streams/);
  assert.equal(server.metrics.streamsRefused, 1);
  assert.equal(server.metrics.openStreams, 3);

  server.setMaxStreams(1);
  assert.equal(server.metrics.maxStreams, 1);
  const [oldest, middle, newest] = open;
  const shedOldest = await oldest?.ended;
  const shedMiddle = await middle?.ended;
  assert.equal(shedOldest?.code, 14);
  assert.match(shedOldest?.details ?? "", /shedding load \(over its stream cap of 1\): reconnect, to another replica/);
  assert.equal(shedMiddle?.code, 14);
  assert.deepEqual(closed, ["oldest", "middle"], "the oldest first");
  await until("the server to be back under its cap", () => server.metrics.openStreams === 1);
  assert.equal(server.metrics.streamsShed, 2);
  assert.equal(server.status.node("oldest")?.lastStreamError?.reason, "shed");
  assert.equal(server.status.node("newest")?.streams, 1, "the newest is still served");
  assert.equal(newest?.responses.length, 1);

  // At the cap, a reconnect is refused; without a cap it is served again.
  const again = await connect("oldest");
  assert.equal((await again.ended).code, 14);
  server.setMaxStreams(undefined);
  const back = await connect("oldest");
  assert.equal((await back.next(5000)).versionInfo, "v1");
  assert.equal(server.metrics.streamsRefused, 2);
});

test("setMaxStreams refuses a cap that is not an integer >= 0", () => {
  const server = createXdsServer({ cache: createSnapshotCache() });
  assert.throws(() => server.setMaxStreams(-1), (e: unknown) => e instanceof XdsError && /maxStreams must be an integer >= 0/.test(e.message));
  assert.throws(() => server.setMaxStreams(1.5), XdsError);
});
