import { test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { HeldVersions } from "../protocol/held-versions.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { CsdsResourceVersions } from "./csds-resource-versions.ts";

// What a SotW stream reports of each response (server/stream-reporter.ts): the names it sent, from its cache key.
const base = { nodeId: "n", cacheKey: "group", typeUrl: TypeUrl.Endpoint };

test("a resource keeps the version of the response that last changed it; kept and unknown names change nothing", async () => {
  const cache = createSnapshotCache();
  const record = new CsdsResourceVersions({ cache });
  await cache.setSnapshot("group", createSnapshot({ version: "v1", resources: [endpoints("a"), endpoints("b")] }));
  record.recordSotwResponse({ ...base, versionInfo: "v1", resourceNames: ["a", "b"] });
  await cache.setSnapshot("group", createSnapshot({ version: "v2", resources: [endpoints("a"), endpoints("b", [9])] }));
  // "gone" was kept in the response for make-before-break: not in the cache, not recorded.
  record.recordSotwResponse({ ...base, versionInfo: "v2", resourceNames: ["a", "b", "gone"] });
  assert.equal(record.versionOf("n", TypeUrl.Endpoint, "a"), "v1");
  assert.equal(record.versionOf("n", TypeUrl.Endpoint, "b"), "v2");
  assert.equal(record.versionOf("n", TypeUrl.Endpoint, "gone"), undefined);
  // Another key than the stream's has nothing: nothing is recorded.
  record.recordSotwResponse({ ...base, cacheKey: "other", versionInfo: "v3", resourceNames: ["a"] });
  assert.equal(record.versionOf("n", TypeUrl.Endpoint, "a"), "v1");
});

test("records survive reconnects and go only with the node's status", () => {
  const record = new CsdsResourceVersions({ cache: createSnapshotCache() });
  const [cluster] = createSnapshot({ resources: [edsCluster("c"), endpoints("c")] }).resources(TypeUrl.Cluster).values();
  assert.ok(cluster);
  record.recordSent({ nodeId: "kept", typeUrl: TypeUrl.Cluster, versionInfo: "v1", resources: [cluster] });
  record.recordSent({ nodeId: "pruned", typeUrl: TypeUrl.Cluster, versionInfo: "v1", resources: [cluster] });
  record.recordSent({ nodeId: "kept", typeUrl: TypeUrl.Cluster, versionInfo: "v2", resources: [cluster] });
  record.retainOnly(new Set(["kept"]));
  assert.equal(record.versionOf("kept", TypeUrl.Cluster, "c"), "v1");
  assert.equal(record.versionOf("pruned", TypeUrl.Cluster, "c"), undefined);
});

test("nodes that got the same responses share a record; one that gets another response diverges alone", async () => {
  const cache = createSnapshotCache();
  const record = new CsdsResourceVersions({ cache });
  const sotw = { cacheKey: "g", typeUrl: TypeUrl.Endpoint };
  await cache.setSnapshot("g", createSnapshot({ version: "v1", resources: [endpoints("a"), endpoints("b")] }));
  const sent = ["a", "b"]; // one list for every stream, as the server passes it
  for (const nodeId of ["x", "y"]) record.recordSotwResponse({ ...sotw, nodeId, versionInfo: "v1", resourceNames: sent });
  await cache.setSnapshot("g", createSnapshot({ version: "v2", resources: [endpoints("a", [7]), endpoints("b")] }));
  record.recordSotwResponse({ ...sotw, nodeId: "x", versionInfo: "v2", resourceNames: sent });
  assert.deepEqual(
    ["x", "y"].map((n) => [record.versionOf(n, TypeUrl.Endpoint, "a"), record.versionOf(n, TypeUrl.Endpoint, "b")]),
    [
      ["v2", "v1"],
      ["v1", "v1"],
    ],
  );
  // The same response to y afterwards lands it where x is.
  record.recordSotwResponse({ ...sotw, nodeId: "y", versionInfo: "v2", resourceNames: sent });
  assert.equal(record.versionOf("y", TypeUrl.Endpoint, "a"), "v2");
  // The same names at the same version_info over other content is another transition.
  await cache.setSnapshot("g", createSnapshot({ version: "v2", resources: [endpoints("a", [7]), endpoints("b", [8])] }));
  record.recordSotwResponse({ ...sotw, nodeId: "y", versionInfo: "v2", resourceNames: sent });
  assert.equal(record.versionOf("y", TypeUrl.Endpoint, "b"), "v2");
  assert.equal(record.versionOf("x", TypeUrl.Endpoint, "b"), "v1");
});

test("a Delta node's resources keep their own versions (Resource.version), as Envoy shows them, read from what its stream holds", async () => {
  const cache = createSnapshotCache();
  const record = new CsdsResourceVersions({ cache });
  const snapshot = createSnapshot({ version: "sys-1", resources: [endpoints("a"), endpoints("b")] });
  const [a, b] = [...snapshot.resources(TypeUrl.Endpoint).values()];
  assert.ok(a && b);
  const held = HeldVersions.empty.with([
    [a.name, a.version],
    [b.name, b.version],
  ]);
  record.recordDeltaHeld({ nodeId: "d", typeUrl: TypeUrl.Endpoint, held });
  assert.equal(record.versionOf("d", TypeUrl.Endpoint, "a"), a.version);
  assert.notEqual(a.version, "sys-1");
  const [b2] = [...createSnapshot({ version: "sys-2", resources: [endpoints("b", [9])] }).resources(TypeUrl.Endpoint).values()];
  assert.ok(b2);
  record.recordDeltaHeld({ nodeId: "d", typeUrl: TypeUrl.Endpoint, held: held.with([[b2.name, b2.version]]) });
  assert.deepEqual([record.versionOf("d", TypeUrl.Endpoint, "a"), record.versionOf("d", TypeUrl.Endpoint, "b")], [a.version, b2.version]);
  record.retainOnly(new Set());
  assert.equal(record.versionOf("d", TypeUrl.Endpoint, "a"), undefined, "forgotten with the node");
});

test("nodes served one after another share their records even when their types' responses alternate (admission control)", async () => {
  const cache = createSnapshotCache();
  const record = new CsdsResourceVersions({ cache });
  await cache.setSnapshot("group", createSnapshot({ version: "v1", resources: [edsCluster("a"), edsCluster("b"), endpoints("a"), endpoints("b")] }));
  const clusters = ["a", "b"];
  const assignments = ["a", "b"];
  // Each node gets its CDS, then its EDS response, before the next node: two transitions from the empty record interleave.
  for (const nodeId of ["n1", "n2", "n3"]) {
    record.recordSotwResponse({ nodeId, cacheKey: "group", typeUrl: TypeUrl.Cluster, versionInfo: "v1", resourceNames: clusters });
    record.recordSotwResponse({ nodeId, cacheKey: "group", typeUrl: TypeUrl.Endpoint, versionInfo: "v1", resourceNames: assignments });
  }
  for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Endpoint]) {
    assert.ok(record.sharesRecord("n1", "n2", typeUrl), `${typeUrl}: n1 and n2 share one record`);
    assert.ok(record.sharesRecord("n1", "n3", typeUrl), `${typeUrl}: n1 and n3 share one record`);
  }
  assert.equal(record.versionOf("n3", TypeUrl.Endpoint, "b"), "v1");
});
