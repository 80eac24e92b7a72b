import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { openObjectStore } from "./object-store.ts";
import { rollbackChange } from "./rollback-change.ts";
import { StoreError } from "./store-error.ts";

const dir = mkdtempSync(join(tmpdir(), "cp-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => openObjectStore({ file: join(dir, `s${n++}`, "control-plane.db") });

const backend = (name: string, port: number): ModelObject => ({
  apiVersion: "v1",
  kind: "Backend",
  metadata: { name },
  spec: { endpoints: [{ address: "127.0.0.1", port }] },
});

describe("object store", () => {
  it("numbers every accepted change as one revision with its full object set", async () => {
    const store = fresh();
    assert.equal(store.currentRevision(), 0);
    const r1 = await store.commit({ upserts: [backend("a", 1), backend("b", 2)], source: "api" });
    assert.equal(r1.revision?.revision, 1);
    assert.deepEqual(r1.revision?.changes, [
      { key: "Backend/a", action: "created" },
      { key: "Backend/b", action: "created" },
    ]);
    await store.commit({ upserts: [backend("a", 3)], deletes: ["Backend/b"], source: "file:x.yaml" });
    assert.equal(store.currentRevision(), 2);
    assert.deepEqual(
      store.list().map((s) => [s.key, s.revision, s.source]),
      [["Backend/a", 2, "file:x.yaml"]],
    );
    assert.deepEqual(store.objectsAt(1), [backend("a", 1), backend("b", 2)]);
    assert.deepEqual(store.objectsAt(2), [backend("a", 3)]);
    assert.deepEqual(
      store.history().map((h) => [h.revision, h.source, h.summary]),
      [
        [2, "file:x.yaml", "updated Backend/a, deleted Backend/b"],
        [1, "api", "created Backend/a, created Backend/b"],
      ],
    );
    store.close();
  });

  it("creates no revision for a change equal to what is stored", async () => {
    const store = fresh();
    await store.commit({ upserts: [backend("a", 1)], source: "api" });
    // Same content, keys in another order: still a no-op.
    const same: ModelObject = { spec: { endpoints: [{ port: 1, address: "127.0.0.1" }] }, metadata: { name: "a" }, kind: "Backend", apiVersion: "v1" };
    assert.equal((await store.commit({ upserts: [same], deletes: ["Backend/nope"], source: "api" })).changed, false);
    assert.equal(store.currentRevision(), 1);
    store.close();
  });

  it("refuses an update whose expectedRevision is not the object's last-modified revision", async () => {
    const store = fresh();
    await store.commit({ upserts: [backend("a", 1)], source: "api" });
    await store.commit({ upserts: [backend("a", 2)], source: "api" });
    await assert.rejects(
      () => store.commit({ upserts: [backend("a", 9)], expectedRevisions: { "Backend/a": 1 }, source: "api" }),
      (e: unknown) => e instanceof StoreError && e.code === "conflict" && /revision 2, not 1/.test(e.message),
    );
    await assert.rejects(() => store.commit({ upserts: [backend("z", 9)], expectedRevisions: { "Backend/z": 3 }, source: "api" }), StoreError);
    assert.equal((await store.commit({ upserts: [backend("a", 9)], expectedRevisions: { "Backend/a": 2 }, source: "api" })).changed, true);
    assert.equal(store.get("Backend/a")?.revision, 3);
    store.close();
  });

  it("rolls back by creating a new revision equal to the old one", async () => {
    const store = fresh();
    await store.commit({ upserts: [backend("a", 1)], source: "api" });
    await store.commit({ upserts: [backend("a", 2), backend("b", 2)], source: "api" });
    const r = await store.commit(rollbackChange(store, 1));
    assert.equal(r.revision?.revision, 3);
    assert.equal(r.revision?.source, "rollback:1");
    assert.deepEqual(store.objectsAt(3), store.objectsAt(1));
    assert.deepEqual(store.objectsAt(2), [backend("a", 2), backend("b", 2)]);
    assert.throws(() => rollbackChange(store, 7), (e: unknown) => e instanceof StoreError && e.code === "not_found");
    store.close();
  });

  it("keeps everything across a reopen of the same file", async () => {
    const file = join(dir, "reopen", "cp.db");
    const first = openObjectStore({ file });
    await first.commit({ upserts: [backend("a", 1)], source: "api" });
    first.close();
    const second = openObjectStore({ file });
    assert.equal(second.currentRevision(), 1);
    assert.deepEqual(second.get("Backend/a")?.object, backend("a", 1));
    second.close();
  });

  it("rolls a failed commit back as a whole", async () => {
    const store = fresh();
    await assert.rejects(() => store.commit({ upserts: [backend("a", 1), backend("a", 2)], source: "api" }), StoreError);
    assert.equal(store.currentRevision(), 0);
    assert.deepEqual(store.list(), []);
    store.close();
  });
});
