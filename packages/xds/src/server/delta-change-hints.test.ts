// Change hints: caches say which names changed, once per change, and a Delta
// stream checks only those against what its client holds (docs/xds-protocol.md §
// Cost), falling back to the full walk for work a hint does not describe.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigWatcher, TypeChange, TypeResources } from "../cache/config-watcher.ts";
import { createLinearCache } from "../cache/linear-cache.ts";
import { createMuxCache } from "../cache/mux-cache.ts";
import { createSnapshot, type Snapshot } from "../cache/snapshot.ts";
import { createSnapshotCache, type SnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { deltaNames, RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `c${String(i + from).padStart(4, "0")}`);

function edsSnapshot(clusters: readonly string[], moved: ReadonlyMap<string, number> = new Map()): Snapshot {
  return createSnapshot({
    resources: [...clusters.map((c) => edsCluster(c)), ...clusters.map((c) => endpoints(c, [moved.get(c) ?? 8080]))],
  });
}

/** Lookups the streams make in the resources they are served: how much of the set a response walked. */
class CountingMap<K, V> extends Map<K, V> {
  static lookups = 0;
  override get(key: K): V | undefined {
    CountingMap.lookups++;
    return super.get(key);
  }
  override has(key: K): boolean {
    CountingMap.lookups++;
    return super.has(key);
  }
  override values(): MapIterator<V> {
    CountingMap.lookups += this.size;
    return super.values();
  }
}

/** The snapshot cache as the server sees it, counting lookups, with or without hints. */
function counted(cache: SnapshotCache, options: { hints: boolean }): ConfigWatcher {
  const views = new WeakMap<TypeResources, TypeResources>();
  return {
    keyOf: (node) => cache.keyOf(node),
    get(key, typeUrl) {
      const tr = cache.get(key, typeUrl);
      if (!tr) return tr;
      let view = views.get(tr);
      if (!view) views.set(tr, (view = { version: tr.version, items: new CountingMap(tr.items) }));
      return view;
    },
    watch: (key, listener) => cache.watch(key, options.hints ? listener : (typeUrls) => listener(typeUrls)),
  };
}

describe("caches name what changed", () => {
  test("a snapshot cache reports changed and removed names per type, once per setSnapshot", async () => {
    const cache = createSnapshotCache();
    const seen: Array<ReadonlyMap<string, TypeChange> | undefined> = [];
    cache.watch("k", (_types, changes) => seen.push(changes));
    await cache.setSnapshot("k", edsSnapshot(["a", "b", "c"]));
    assert.equal(seen[0]?.get(TypeUrl.Endpoint), "all", "a first snapshot has no previous one to compare with");
    await cache.setSnapshot("k", edsSnapshot(["a", "b", "d"], new Map([["a", 9]])));
    const eds = seen[1]?.get(TypeUrl.Endpoint);
    const cds = seen[1]?.get(TypeUrl.Cluster);
    assert.ok(eds !== undefined && eds !== "all" && cds !== undefined && cds !== "all");
    assert.deepEqual([...eds.changed].sort(), ["a", "d"]);
    assert.deepEqual([...eds.removed], ["c"]);
    assert.deepEqual([...cds.changed], ["d"]);
    assert.deepEqual([...cds.removed], ["c"]);
    await cache.setSnapshot("k", createSnapshot({ version: "v9", resources: [...["a", "b", "d"].map((c) => edsCluster(c)), endpoints("a", [9]), endpoints("b"), endpoints("d")] }));
    const relabelled = seen[2]?.get(TypeUrl.Endpoint);
    assert.ok(relabelled !== undefined && relabelled !== "all");
    assert.equal(relabelled.changed.size + relabelled.removed.size, 0, "a new version label over the same content changes no name");
  });

  test("a linear cache reports the names an update changed; a mux cache passes hints on for the types a sub-cache serves", async () => {
    const eds = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [endpoints("a"), endpoints("b")] });
    const snapshots = createSnapshotCache();
    const mux = createMuxCache({ byType: { [TypeUrl.Endpoint]: eds }, fallback: snapshots });
    const seen: Array<[string[], ReadonlyMap<string, TypeChange> | undefined]> = [];
    mux.watch("k", (types, changes) => seen.push([[...types], changes]));
    await eds.updateResources({ upsert: [endpoints("a", [1]), endpoints("b")], remove: ["zz"] });
    await eds.updateResources({ remove: ["b"] });
    await snapshots.setSnapshot("k", createSnapshot({ resources: [edsCluster("a"), endpoints("a", [7])], skipConsistencyCheck: true }));
    assert.deepEqual(seen.map(([t]) => t), [[TypeUrl.Endpoint], [TypeUrl.Endpoint], [TypeUrl.Cluster]]);
    const first = seen[0]?.[1]?.get(TypeUrl.Endpoint);
    const second = seen[1]?.[1]?.get(TypeUrl.Endpoint);
    assert.ok(first !== undefined && first !== "all" && second !== undefined && second !== "all");
    assert.deepEqual([[...first.changed], [...first.removed]], [["a"], []], "an unchanged upsert and a missing removal are not changes");
    assert.deepEqual([[...second.changed], [...second.removed]], [[], ["b"]]);
    assert.deepEqual([...(seen[2]?.[1]?.keys() ?? [])], [TypeUrl.Cluster], "the snapshot's endpoints are not the mux's EDS");
  });
});

describe("Delta streams follow the hints", () => {
  let cache: SnapshotCache;
  const servers: XdsServer[] = [];
  const clients: RawDeltaClient[] = [];
  let hinted: number;
  let unhinted: number;

  before(async () => {
    cache = createSnapshotCache();
    const withHints = createXdsServer({ cache: counted(cache, { hints: true }) });
    const withoutHints = createXdsServer({ cache: counted(cache, { hints: false }) });
    servers.push(withHints, withoutHints);
    hinted = await withHints.listen({ port: 0 });
    unhinted = await withoutHints.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close({ graceMs: 100 });
  });

  /** A client subscribed by name to `subscribed`, holding them (initial response ACKed). */
  async function holding(port: number, nodeId: string, subscribed: readonly string[]): Promise<RawDeltaClient> {
    const c = new RawDeltaClient({ port, nodeId });
    clients.push(c);
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: subscribed });
    const r = await c.next();
    assert.deepEqual(deltaNames(r), [...subscribed].sort());
    c.ack(r);
    await c.expectNone(50);
    return c;
  }

  test("a change to one name among many sends exactly that one, and looks at little more than that name", async () => {
    const all = names(300);
    await cache.setSnapshot("one", edsSnapshot(all));
    const c = await holding(hinted, "one", all);
    CountingMap.lookups = 0;
    await cache.setSnapshot("one", edsSnapshot(all, new Map([["c0123", 9]])));
    const r = await c.next();
    assert.deepEqual(deltaNames(r), ["c0123"]);
    assert.deepEqual(r.removedResources, []);
    assert.ok(CountingMap.lookups < 10, `the stream looked up ${CountingMap.lookups} names for one change`);
    c.ack(r);
    await c.expectNone(100);
    assert.ok(CountingMap.lookups < 10, "an ACK without subscription changes walks nothing");
  });

  test("without hints (a ConfigWatcher that predates them), the full walk finds the same one change", async () => {
    const all = names(300);
    await cache.setSnapshot("plain", edsSnapshot(all));
    const c = await holding(unhinted, "plain", all);
    CountingMap.lookups = 0;
    await cache.setSnapshot("plain", edsSnapshot(all, new Map([["c0007", 9]])));
    const r = await c.next();
    assert.deepEqual(deltaNames(r), ["c0007"]);
    assert.ok(CountingMap.lookups >= all.length, "every subscribed name was checked");
  });

  test("a removed name the client holds is reported removed; one it never subscribed to is not", async () => {
    const all = names(50);
    await cache.setSnapshot("gone", edsSnapshot(all));
    const c = await holding(hinted, "gone", all.slice(0, 40));
    await cache.setSnapshot("gone", edsSnapshot(all.filter((n) => n !== "c0003" && n !== "c0045")));
    const r = await c.next();
    assert.deepEqual(deltaNames(r), []);
    assert.deepEqual(r.removedResources, ["c0003"]);
    c.ack(r);
    await c.expectNone(100);
  });

  test("a subscription change pending with a cache change gets everything it should", async () => {
    const all = names(60);
    await cache.setSnapshot("pending", edsSnapshot(all));
    const c = await holding(hinted, "pending", all.slice(0, 20));
    // New names and a change (to one held name and one newly subscribed name) arrive together.
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: all.slice(20, 30) });
    const changed = cache.setSnapshot("pending", edsSnapshot(all, new Map([["c0005", 9], ["c0025", 9], ["c0050", 9]])));
    const got = new Map<string, string>();
    while (got.size < 11) {
      const r = await c.next();
      assert.deepEqual(r.removedResources, []);
      for (const x of r.resources) got.set(x.name, x.version);
      c.ack(r);
    }
    await changed;
    await c.expectNone(150);
    assert.deepEqual([...got.keys()].sort(), [...all.slice(20, 30), "c0005"].sort(), "the new names, and the one held name that changed; not c0050");
    const current = cache.getSnapshot("pending")?.resources(TypeUrl.Endpoint);
    for (const [name, version] of got) assert.equal(version, current?.get(name)?.version, `${name} at its latest version`);
  });

  test("an unsubscribe then a change: the dropped name is not sent, the others are", async () => {
    const all = names(30);
    await cache.setSnapshot("drop", edsSnapshot(all));
    const c = await holding(hinted, "drop", all);
    c.send({ typeUrl: TypeUrl.Endpoint, unsubscribe: ["c0001"] });
    await c.expectNone(100);
    await cache.setSnapshot("drop", edsSnapshot(all, new Map([["c0001", 9], ["c0002", 9]])));
    const r = await c.next();
    assert.deepEqual(deltaNames(r), ["c0002"]);
    c.ack(r);
    c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["c0001"] });
    const back = await c.next();
    assert.deepEqual(deltaNames(back), ["c0001"], "subscribing again sends it at its current version");
  });
});
