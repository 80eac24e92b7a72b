import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { createLinearCache } from "./linear-cache.ts";

test("a linear cache serves its one type to every key, with per-resource versions", async () => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("a"), endpoints("b")] });
  const forA = cache.get("node-a", TypeUrl.Endpoint);
  assert.equal(forA, cache.get("node-b", TypeUrl.Endpoint), "the same immutable view for any key");
  assert.deepEqual([...(forA?.items.keys() ?? [])], ["a", "b"]);
  assert.equal(cache.get("node-a", TypeUrl.Cluster), undefined, "other types are not its business");
  assert.equal(cache.keyOf(create(NodeSchema, { id: "n" })), "n");
});

test("notifies once per real change, never for an unchanged upsert; views are replaced, not mutated", async () => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint });
  const seen: string[][] = [];
  const stop = cache.watch("any", (types) => seen.push([...types]));
  await cache.updateResources({ upsert: [endpoints("a", [1])] });
  const v1 = cache.get("x", TypeUrl.Endpoint);
  await cache.updateResources({ upsert: [endpoints("a", [1])] });
  await cache.deleteResource("missing");
  assert.equal(seen.length, 1);
  await cache.updateResources({ upsert: [endpoints("b")], remove: ["a"] });
  assert.equal(seen.length, 2);
  assert.deepEqual([...(v1?.items.keys() ?? [])], ["a"], "an earlier view is untouched");
  assert.notEqual(cache.get("x", TypeUrl.Endpoint)?.version, v1?.version);
  await cache.setResources([endpoints("c")]);
  await cache.deleteResource("c");
  assert.equal(seen.length, 4);
  assert.equal(cache.resources().size, 0);
  stop();
  await cache.setResources([endpoints("d")]);
  assert.equal(seen.length, 4);
  assert.deepEqual(seen[0], [TypeUrl.Endpoint]);
});

test("misuse throws XdsError with a stable code, before anything changes", async () => {
  assert.throws(() => createLinearCache({ typeUrl: "type.googleapis.com/no.Such" }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("a")] });
  await assert.rejects(cache.updateResources({ upsert: [endpoints("b"), edsCluster("c")] }), (e: unknown) => e instanceof XdsError && e.code === "invalid_resource");
  assert.deepEqual([...cache.resources().keys()], ["a"]);
  await assert.rejects(cache.setResources([endpoints("x"), endpoints("x", [2])]), (e: unknown) => e instanceof XdsError && e.code === "duplicate_resource");
});
