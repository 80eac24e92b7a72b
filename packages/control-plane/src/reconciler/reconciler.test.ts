import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TypeUrl, createSnapshotCache } from "@ts-control-plane/xds";
import { parseDocuments } from "../model/parse-documents.ts";
import { openObjectStore } from "../store/object-store.ts";
import { UNMATCHED_GROUP, createReconciler } from "./reconciler.ts";

const examples = new URL("../../../../examples/control-plane/", import.meta.url);
const example = (name: string) => parseDocuments(readFileSync(new URL(name, examples), "utf8")).objects;

describe("reconciler", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-reconciler-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const setup = () => {
    const store = openObjectStore({ file: join(dir, `r${n++}.db`) });
    const cache = createSnapshotCache();
    const reconciler = createReconciler({ store, cache, debounceMs: 5 });
    return { store, cache, reconciler, [Symbol.asyncDispose]: async () => { await reconciler.close(); store.close(); } };
  };

  it("pushes one snapshot per node group and keys nodes by their group", async () => {
    await using s = setup();
    const outcome = await s.reconciler.change({ upserts: example("node-groups.yaml"), source: "test" });
    assert.equal(outcome.accepted, true, JSON.stringify(outcome.diagnostics));
    await s.reconciler.flush();
    assert.deepEqual(s.cache.keys().sort(), ["edge", "internal", "internal-by-id"]);
    assert.ok((s.cache.getSnapshot("edge")?.resources(TypeUrl.Listener).size ?? 0) > 0);
    assert.equal(s.reconciler.nodeGroupOf({ id: "e-7", cluster: "edge" }), "edge");
    assert.equal(s.reconciler.nodeGroupOf({ id: "x", cluster: "other", metadata: { role: "internal" } }), "internal");
    assert.equal(s.reconciler.nodeGroupOf({ id: "x", cluster: "other" }), UNMATCHED_GROUP);
  });

  it("refuses a delete that would break an object still referencing it", async () => {
    await using s = setup();
    assert.equal((await s.reconciler.change({ upserts: example("scenario-2.yaml"), source: "test" })).accepted, true);
    const del = await s.reconciler.change({ deletes: ["Service/example_proxy_cluster"], source: "test" });
    assert.equal(del.accepted, false);
    assert.ok(del.rejected.length > 0, "the route that uses the service is named");
    assert.ok(del.diagnostics.some((d) => d.severity === "error" && d.object !== undefined && del.rejected.includes(d.object)));
    assert.equal(s.store.currentRevision(), 1);
  });

  it("a conflict is the new object's: a listener or route added next to a live one carries the error, whatever the names (issue 8)", async () => {
    await using s = setup();
    const o = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec }) as never;
    const live = [
      o("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: 9000 }] }),
      o("Listener", "web", { protocol: "HTTP", address: "127.0.0.1", port: 8080 }),
      o("Route", "site", { listeners: ["web"], domains: ["example.com"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
    ];
    assert.equal((await s.reconciler.change({ upserts: live, source: "test" })).accepted, true);
    // "aaa" sorts before "web" and "another" before "site": name order would blame the live objects.
    for (const [added, code] of [
      [o("Listener", "aaa", { protocol: "HTTP", address: "127.0.0.1", port: 8080 }), "listener.port_conflict"],
      [o("Route", "another", { listeners: ["web"], domains: ["example.com"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }), "route.domain_conflict"],
    ] as const) {
      const key = `${(added as { kind: string }).kind}/${(added as { metadata: { name: string } }).metadata.name}`;
      for (const outcome of [await s.reconciler.diff({ upserts: [added], source: "test" }), await s.reconciler.change({ upserts: [added], source: "test" })]) {
        assert.equal(outcome.accepted, false);
        assert.deepEqual(outcome.rejected, [key]);
        const errors = outcome.diagnostics.filter((d) => d.severity === "error");
        assert.deepEqual(errors.map((d) => [d.object, d.code]), [[key, code]]);
        assert.ok(!outcome.diagnostics.some((d) => d.object === "Listener/web" || d.object === "Route/site"), JSON.stringify(outcome.diagnostics));
      }
    }
    assert.equal(s.store.currentRevision(), 1);
  });

  it("works out a change given as a function when its turn comes, after the changes queued before it; what it throws rejects only that change", async () => {
    await using s = setup();
    const service = (name: string, port: number) => ({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name }, spec: { endpoints: [{ address: "127.0.0.1", port }] } }) as never;
    assert.equal((await s.reconciler.change({ upserts: [service("a", 9000), service("b", 9001)], source: "file:x.yaml" })).accepted, true);
    // Queued, not awaited: the file's change below is planned only once this one is stored.
    const takeover = s.reconciler.change({ upserts: [service("b", 9002)], source: "api" });
    const failing = s.reconciler.change(() => {
      throw new Error("planned to fail");
    });
    // The file no longer defines b: its deletes are the objects still its own at its turn (none, b is the API's now).
    const file = s.reconciler.change(() => ({ upserts: [service("a", 9000)], deletes: s.store.list().filter((o) => o.source === "file:x.yaml" && o.key !== "Service/a").map((o) => o.key), source: "file:x.yaml" }));
    assert.equal((await takeover).accepted, true);
    await assert.rejects(failing, /planned to fail/);
    assert.equal((await file).changed, false);
    assert.deepEqual(s.store.list().map((o) => [o.key, o.source]), [["Service/a", "file:x.yaml"], ["Service/b", "api"]]);
  });

  it("diffs a candidate change per node group, by resource content", async () => {
    await using s = setup();
    const objects = example("scenario-2.yaml");
    await s.reconciler.change({ upserts: objects, source: "test" });
    await s.reconciler.flush();
    const service = objects.find((o) => o.kind === "Service");
    assert.ok(service);
    const moved = { ...service, spec: { ...service.spec, endpoints: [{ address: "127.0.0.1", port: 9999 }] } };
    const d = await s.reconciler.diff({ upserts: [moved], source: "test" });
    assert.equal(d.accepted, true);
    assert.deepEqual(d.changes, [{ key: "Service/example_proxy_cluster", action: "updated" }]);
    assert.deepEqual(
      d.groups.map((g) => [g.group, g.resources.map((r) => `${r.action} ${r.typeUrl.split(".").pop()} ${r.name}`)]),
      [["default", ["changed ClusterLoadAssignment example_proxy_cluster"]]],
    );
    assert.equal(s.store.currentRevision(), 1, "diff stores nothing");
    assert.deepEqual((await s.reconciler.diff({ upserts: objects, source: "test" })).groups, []);
  });

  it("on start, pushes what is stored with the same versions as before", async () => {
    const file = join(dir, "restart.db");
    const first = openObjectStore({ file });
    const cache1 = createSnapshotCache();
    const r1 = createReconciler({ store: first, cache: cache1, debounceMs: 5 });
    await r1.change({ upserts: example("scenario-2.yaml"), source: "test" });
    await r1.flush();
    const v1 = cache1.getSnapshot("default")?.version;
    await r1.close();
    first.close();
    const second = openObjectStore({ file });
    const cache2 = createSnapshotCache();
    const r2 = createReconciler({ store: second, cache: cache2 });
    await r2.start();
    assert.ok(v1 !== undefined && v1 !== "");
    assert.equal(cache2.getSnapshot("default")?.version, v1);
    await r2.close();
    second.close();
  });
});
