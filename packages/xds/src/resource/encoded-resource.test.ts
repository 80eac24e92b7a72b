import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { encodeResource } from "./encoded-resource.ts";
import { TypeUrl } from "./type-urls.ts";
import { XdsError } from "./xds-error.ts";

test("encodes a resource once into bytes and an Any, with a content-hash version", () => {
  const cluster = create(ClusterSchema, { name: "c1" });
  const r = encodeResource(ClusterSchema, cluster);
  assert.equal(r.name, "c1");
  assert.equal(r.typeUrl, TypeUrl.Cluster);
  const any = fromBinary(AnySchema, r.any);
  assert.equal(any.typeUrl, TypeUrl.Cluster);
  assert.deepEqual(fromBinary(ClusterSchema, any.value).name, "c1");
  assert.equal(encodeResource(ClusterSchema, create(ClusterSchema, { name: "c1" })).version, r.version);
  assert.notEqual(encodeResource(ClusterSchema, create(ClusterSchema, { name: "c2" })).version, r.version);
});

test("a resource without a name is misuse with a stable code", () => {
  assert.throws(() => encodeResource(ClusterSchema, create(ClusterSchema, {})), (e: unknown) => e instanceof XdsError && e.code === "invalid_resource");
});
