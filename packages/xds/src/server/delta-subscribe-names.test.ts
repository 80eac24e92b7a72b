// Long lists of subscribed names decoded once per distinct list (issue 15
// item 1): the rest of the request decodes as before, the names are exactly
// those on the wire, and a second request with the same bytes gets the same
// array, made of the cache's own strings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DeltaDiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { DeltaSubscribeNames } from "./delta-subscribe-names.ts";

const names = Array.from({ length: 2000 }, (_, i) => `cluster-${i}`);
const request = (nodeId: string, subscribe: readonly string[]): Uint8Array =>
  toBinary(
    DeltaDiscoveryRequestSchema,
    create(DeltaDiscoveryRequestSchema, { node: { id: nodeId }, typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: [...subscribe], resourceNamesUnsubscribe: ["gone"], initialResourceVersions: { a: "1" } }),
  );

test("a long list is split out: the rest decodes to the same request without it, and the names are those sent", () => {
  const cache = new DeltaSubscribeNames();
  const split = cache.split(request("n1", names));
  assert.ok(split);
  const rest = fromBinary(DeltaDiscoveryRequestSchema, split.rest);
  assert.equal(rest.node?.id, "n1");
  assert.equal(rest.typeUrl, TypeUrl.Endpoint);
  assert.deepEqual(rest.resourceNamesSubscribe, []);
  assert.deepEqual(rest.resourceNamesUnsubscribe, ["gone"]);
  assert.deepEqual(rest.initialResourceVersions, { a: "1" });
  assert.deepEqual(cache.names(split, undefined), names);
});

test("the same names from another node give the same array, of the cache's own strings; other names do not", () => {
  const cache = new DeltaSubscribeNames();
  const known = new Map<string, EncodedResource>(names.map((n) => [n, { name: n } as unknown as EncodedResource]));
  const first = cache.names(cache.split(request("n1", names)) ?? assert.fail("split"), known);
  const second = cache.names(cache.split(request("n2", names)) ?? assert.fail("split"), known);
  assert.equal(second, first, "one array for both requests");
  assert.equal(first[7], known.get("cluster-7")?.name);
  const other = cache.names(cache.split(request("n3", [...names.slice(1), "extra"])) ?? assert.fail("split"), known);
  assert.notEqual(other, first);
  assert.equal(other.at(-1), "extra");
});

test("a short list or malformed bytes are left to the usual decode", () => {
  const cache = new DeltaSubscribeNames();
  assert.equal(cache.split(request("n1", ["a", "b"])), undefined);
  assert.equal(cache.split(new Uint8Array([0x1a, 0xff])), undefined);
});
