import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { createLinearCache } from "./linear-cache.ts";
import { createMuxCache } from "./mux-cache.ts";
import { createSnapshot } from "./snapshot.ts";
import { createSnapshotCache } from "./snapshot-cache.ts";

test("the usual setup: clusters from the snapshot cache, endpoints from a linear cache", async () => {
  const snapshots = createSnapshotCache({ nodeKey: (n) => `group-${n.cluster}` });
  const eds = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("c1")] });
  const mux = createMuxCache({ byType: { [TypeUrl.Endpoint]: eds }, fallback: snapshots });
  assert.equal(mux.keyOf(create(NodeSchema, { id: "n", cluster: "edge" })), "group-edge", "keys come from the snapshot side");
  // The snapshot's EDS reference points into the linear cache: skip the check.
  assert.throws(() => createSnapshot({ resources: [edsCluster("c1")] }), (e: unknown) => e instanceof XdsError && e.code === "inconsistent_snapshot");
  await snapshots.setSnapshot("group-edge", createSnapshot({ resources: [edsCluster("c1")], skipConsistencyCheck: true }));
  assert.deepEqual([...(mux.get("group-edge", TypeUrl.Cluster)?.items.keys() ?? [])], ["c1"]);
  assert.deepEqual([...(mux.get("group-edge", TypeUrl.Endpoint)?.items.keys() ?? [])], ["c1"]);
  assert.equal(mux.route(TypeUrl.Endpoint), eds);

  const seen: string[][] = [];
  const stop = mux.watch("group-edge", (types) => seen.push([...types]));
  await eds.updateResources({ upsert: [endpoints("c1", [9])] });
  // A snapshot that also carries endpoints must not wake EDS: they are served by the linear cache.
  await snapshots.setSnapshot("group-edge", createSnapshot({ resources: [edsCluster("c2"), endpoints("c2")], skipConsistencyCheck: true }));
  assert.deepEqual(seen, [[TypeUrl.Endpoint], [TypeUrl.Cluster]]);
  stop();
  await eds.updateResources({ remove: ["c1"] });
  assert.equal(seen.length, 2, "cancel stops every sub-cache watch");
});

test("a mux cache without sub-caches is misuse", () => {
  assert.throws(() => createMuxCache({}), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
});
