import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { encodeResource, lazyEncodedResource } from "./encoded-resource.ts";
import { resourceType } from "./resource-types.ts";
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

const clusterType = resourceType(TypeUrl.Cluster) as NonNullable<ReturnType<typeof resourceType>>;

test("a lazily encoded resource has exactly the eager encoding's bytes, Any and version", () => {
  const lazy = lazyEncodedResource(clusterType, create(ClusterSchema, { name: "c1", connectTimeout: { seconds: 3n } }));
  const eager = encodeResource(ClusterSchema, create(ClusterSchema, { name: "c1", connectTimeout: { seconds: 3n } }));
  assert.equal(lazy.name, "c1");
  assert.equal(lazy.typeUrl, TypeUrl.Cluster);
  assert.equal(lazy.version, eager.version);
  assert.deepEqual(lazy.bytes, eager.bytes);
  assert.deepEqual(lazy.any, eager.any);
  assert.deepEqual(new Uint8Array(lazy.bytes), toBinary(ClusterSchema, lazy.message as never), "the message's own encoding");
  const any = fromBinary(AnySchema, lazy.any);
  assert.equal(any.typeUrl, TypeUrl.Cluster);
  assert.ok(Buffer.from(any.value).equals(lazy.bytes), "the Any holds the same bytes");
  assert.equal(lazy.bytes, lazy.bytes, "encoded once, then the same bytes");
  assert.equal(lazy.bytes.buffer, lazy.any.buffer, "the bytes are a view on the Any: one copy held");
  assert.equal(lazy.bytes.byteOffset + lazy.bytes.length, lazy.any.byteOffset + lazy.any.length, "the Any's tail");
});

test("a lazily encoded resource gives the same version, Any and bytes whichever is read first", () => {
  const message = () => create(ClusterSchema, { name: "c2", connectTimeout: { seconds: 5n } });
  const eager = encodeResource(ClusterSchema, message());
  const byVersion = lazyEncodedResource(clusterType, message());
  assert.equal(byVersion.version, eager.version);
  assert.deepEqual(byVersion.bytes, eager.bytes);
  const byBytes = lazyEncodedResource(clusterType, message());
  assert.deepEqual(byBytes.bytes, eager.bytes);
  assert.equal(byBytes.version, eager.version);
  assert.deepEqual(byBytes.any, eager.any);
  // A name past 127 bytes: the Any's lengths take two-byte varints.
  const long = () => create(ClusterSchema, { name: "c".repeat(300), connectTimeout: { seconds: 5n } });
  const longLazy = lazyEncodedResource(clusterType, long());
  assert.deepEqual(new Uint8Array(longLazy.bytes), toBinary(ClusterSchema, long()));
  assert.equal(longLazy.version, encodeResource(ClusterSchema, long()).version);
});

test("a lazily encoded resource without a name fails at once, not at first use", () => {
  assert.throws(() => lazyEncodedResource(clusterType, create(ClusterSchema, {})), (e: unknown) => e instanceof XdsError && e.code === "invalid_resource");
});

test("a lazily encoded resource that cannot be encoded says which resource and why, at first use", () => {
  // A uint32 field beyond its range: protobuf-es refuses to encode it.
  const r = lazyEncodedResource(clusterType, create(ClusterSchema, { name: "big", perConnectionBufferLimitBytes: 2 ** 33 }));
  assert.throws(
    () => r.bytes,
    (e: unknown) => e instanceof XdsError && e.code === "invalid_resource" && /envoy\.config\.cluster\.v3\.Cluster 'big' cannot be encoded: .*invalid uint32/.test(e.message),
  );
});
