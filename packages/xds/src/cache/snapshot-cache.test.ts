import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import type { TypeChange } from "./config-watcher.ts";
import { createSnapshot } from "./snapshot.ts";
import { createSnapshotCache } from "./snapshot-cache.ts";

const build = (port: number) => createSnapshot({ resources: [edsCluster("a"), edsCluster("b"), endpoints("a", [port]), endpoints("b")] });

test("a snapshot set while nobody watches is served as it is: a changed resource has a new version, an unchanged one keeps it", () => {
  const cache = createSnapshotCache();
  void cache.setSnapshot("k", build(1));
  const first = cache.get("k", TypeUrl.Endpoint);
  void cache.setSnapshot("k", build(2));
  const second = cache.get("k", TypeUrl.Endpoint);
  assert.ok(first !== undefined && second !== undefined);
  assert.notEqual(second.version, first.version);
  assert.notEqual(second.items.get("a")?.version, first.items.get("a")?.version, "the moved endpoint is a new version, not stale bytes");
  assert.equal(second.items.get("b")?.version, first.items.get("b")?.version);
  assert.equal(cache.get("k", TypeUrl.Cluster)?.version, build(9).typeVersion(TypeUrl.Cluster), "same content, same version, whichever object it came from");
});

test("a stream that watches after unwatched sets is told exactly what changed since the snapshot it could read", async () => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("k", build(1));
  await cache.setSnapshot("k", build(2)); // nobody watches: nothing computed
  const seen: Array<{ types: string[]; changes: Map<string, TypeChange> }> = [];
  cache.watch("k", (types, changes) => seen.push({ types: [...types], changes: new Map(changes) }));
  const held = cache.get("k", TypeUrl.Endpoint);
  await cache.setSnapshot("k", build(3));
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]?.types, [TypeUrl.Endpoint], "clusters did not change");
  const eds = seen[0]?.changes.get(TypeUrl.Endpoint);
  assert.ok(eds !== undefined && eds !== "all");
  assert.deepEqual([...eds.changed], ["a"]);
  assert.deepEqual([...eds.removed], []);
  assert.notEqual(cache.get("k", TypeUrl.Endpoint)?.version, held?.version);
  await cache.setSnapshot("k", build(3));
  assert.equal(seen.length, 1, "the same content again notifies nobody");
});

test("two processes building the same content get identical versions", async () => {
  // The sources' extension: .ts here, .js where the library is compiled with its tests (e2e/package).
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const script = `
    const { createSnapshot } = await import(${JSON.stringify(new URL(`./snapshot${ext}`, import.meta.url).href)});
    const { edsCluster, endpoints } = await import(${JSON.stringify(new URL(`../../testing/fixtures${ext}`, import.meta.url).href)});
    const s = createSnapshot({ resources: [edsCluster("a"), edsCluster("b"), endpoints("a", [1]), endpoints("b")] });
    const eds = s.resources(${JSON.stringify(TypeUrl.Endpoint)});
    console.log(JSON.stringify({ version: s.version, types: s.typeUrls.map((t) => s.typeVersion(t)), a: eds.get("a").version }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { timeout: 60_000 });
  const here = build(1);
  assert.deepEqual(JSON.parse(stdout), {
    version: here.version,
    types: here.typeUrls.map((t) => here.typeVersion(t)),
    a: here.resources(TypeUrl.Endpoint).get("a")?.version,
  });
});
