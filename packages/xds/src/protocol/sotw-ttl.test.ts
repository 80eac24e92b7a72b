import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { encodeResource, type EncodedResource } from "../resource/encoded-resource.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { selectSotwHeartbeat } from "./sotw-ttl.ts";
import type { TypeResources } from "./sotw-selection.ts";

const of = (...rs: EncodedResource[]): TypeResources => ({ version: "v", items: new Map(rs.map((r) => [r.name, r])) });
const names = (rs: readonly EncodedResource[] | undefined) => rs?.map((r) => r.name);

test("full-state types: the heartbeat is the whole set last sent, since a SotW LDS/CDS update without a resource deletes it", () => {
  const ttl = encodeResource(ClusterSchema, edsCluster("a"), { ttlMs: 2000 });
  const plain = encodeResource(ClusterSchema, edsCluster("b"));
  const lastSent = [ttl, plain];
  assert.equal(selectSotwHeartbeat({ fullState: true, lastSent, available: of(ttl, plain) }), lastSent);
});

test("other types: only the TTL'd resources the client holds, at the content it holds, while the cache has them", () => {
  const ttl = encodeResource(ClusterLoadAssignmentSchema, endpoints("a", [1]), { ttlMs: 2000 });
  const other = encodeResource(ClusterLoadAssignmentSchema, endpoints("c", [3]), { ttlMs: 2000 });
  const plain = encodeResource(ClusterLoadAssignmentSchema, endpoints("b", [2]));
  assert.deepEqual(names(selectSotwHeartbeat({ fullState: false, lastSent: [ttl, plain, other], available: of(ttl, plain, other) })), ["a", "c"]);
  // Gone from the cache: no longer refreshed, so it expires.
  assert.deepEqual(names(selectSotwHeartbeat({ fullState: false, lastSent: [ttl, plain, other], available: of(ttl, plain) })), ["a"]);
  assert.equal(selectSotwHeartbeat({ fullState: false, lastSent: [ttl, plain, other], available: of(plain) }), undefined);
  // Changed in the cache (an update held back as too large): the client's content is kept alive.
  const changed = encodeResource(ClusterLoadAssignmentSchema, endpoints("c", [4]), { ttlMs: 2000 });
  const beat = selectSotwHeartbeat({ fullState: false, lastSent: [ttl, plain, other], available: of(plain, changed) });
  assert.deepEqual(beat, [other], "what the client holds, not the new content");
});

test("nothing with a TTL sent, or nothing sent: no heartbeat", () => {
  const plain = encodeResource(ClusterSchema, edsCluster("b"));
  assert.equal(selectSotwHeartbeat({ fullState: true, lastSent: [plain], available: of(plain) }), undefined);
  assert.equal(selectSotwHeartbeat({ fullState: true, lastSent: undefined, available: of(plain) }), undefined);
  assert.equal(selectSotwHeartbeat({ fullState: true, lastSent: [], available: of() }), undefined);
});
