import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { openObjectStore } from "./object-store.ts";
import { StoreError } from "./store-error.ts";
import { readStoreState } from "./store-state-marker.ts";

// Issue 14: a damaged store names the file and the object; a full disk is a clear, recoverable error.

const root = mkdtempSync(join(tmpdir(), "cp-store-integrity-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `d${n++}`);
  return { dir, file: join(dir, "control-plane.db"), stateFile: join(dir, "store-state.json") };
};
const service = (name: string, filler = ""): ModelObject => ({
  apiVersion: "tcp.dev/v1alpha1",
  kind: "Service",
  metadata: { name, ...(filler === "" ? {} : { annotations: { filler } }) },
  spec: { endpoints: [{ address: "127.0.0.1", port: 8080 }] },
});
const isStoreError = (code: string, ...parts: string[]) => (e: unknown) => {
  assert.ok(e instanceof StoreError, String(e));
  assert.equal(e.code, code);
  for (const p of parts) assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} should name ${p}`);
  return true;
};

describe("store integrity at open", () => {
  it("names the file, the object and its revision when a stored body is not JSON", async () => {
    const { file } = fresh();
    const store = openObjectStore({ file });
    await store.commit({ upserts: [service("a"), service("b")], source: "test" });
    store.close();
    const db = new DatabaseSync(file);
    db.prepare("UPDATE objects SET body = ? WHERE key = ?").run('{"kind": "Serv', "Service/b");
    db.close();
    assert.throws(() => openObjectStore({ file }), isStoreError("store_corrupt", file, "Service/b", "revision 1", "not valid JSON"));
  });

  it("names a damaged history row too", async () => {
    const { file } = fresh();
    const store = openObjectStore({ file });
    await store.commit({ upserts: [service("a")], source: "test" });
    await store.commit({ upserts: [service("a", "x")], source: "test" });
    store.close();
    const db = new DatabaseSync(file);
    db.prepare("UPDATE object_versions SET body = '{' WHERE revision = 1").run();
    db.close();
    assert.throws(() => openObjectStore({ file }), isStoreError("store_corrupt", file, "Service/a at revision 1"));
  });

  it("refuses a file that is not a database, naming it", async () => {
    const { dir, file } = fresh();
    openObjectStore({ file }).close();
    writeFileSync(file, "this is not what SQLite wrote");
    assert.ok(dir.length > 0);
    assert.throws(() => openObjectStore({ file }), isStoreError("store_corrupt", file));
  });

  it("refuses a store with some of its tables missing", async () => {
    const { file } = fresh();
    openObjectStore({ file }).close();
    const db = new DatabaseSync(file);
    db.exec("DROP TABLE objects");
    db.close();
    assert.throws(() => openObjectStore({ file }), isStoreError("store_corrupt", "objects is missing"));
  });

  it("refuses a schema written by a newer control plane", async () => {
    const { file } = fresh();
    openObjectStore({ file }).close();
    const db = new DatabaseSync(file);
    db.exec("PRAGMA user_version = 99");
    db.close();
    assert.throws(() => openObjectStore({ file }), isStoreError("store_schema_unsupported", "schema version 99"));
  });

  it("records revision and object count in the state marker after each commit", async () => {
    const { file, stateFile } = fresh();
    const store = openObjectStore({ file, stateFile });
    await store.commit({ upserts: [service("a"), service("b")], source: "test" });
    await store.commit({ deletes: ["Service/a"], source: "test" });
    store.close();
    const read = readStoreState(stateFile);
    assert.ok(read.found && read.state !== undefined);
    assert.deepEqual([read.state.revision, read.state.objects], [2, 1]);
    assert.match(readFileSync(stateFile, "utf8"), /"writtenAt"/);
  });
});

describe("a full disk (SQLITE_FULL)", () => {
  it("answers disk_full without losing anything, and works again once space returns", async () => {
    const { file } = fresh();
    let limit: number | undefined;
    const store = openObjectStore({ file, maxPageCount: () => limit });
    await store.commit({ upserts: [service("small")], source: "test" });
    // The database may not grow any further: the next sizeable write hits SQLITE_FULL.
    const db = new DatabaseSync(file);
    limit = Number((db.prepare("PRAGMA page_count").get() as Record<string, unknown>)["page_count"]);
    db.close();
    const big = service("big", "x".repeat(64 * 1024));
    await assert.rejects(() => store.commit({ upserts: [big], source: "test" }), isStoreError("disk_full", "disk full", file, "nothing was changed"));
    assert.equal(store.currentRevision(), 1);
    assert.deepEqual(store.list().map((s) => s.key), ["Service/small"]);
    limit = 100_000;
    const again = await store.commit({ upserts: [big], source: "test" });
    assert.equal(again.revision?.revision, 2);
    assert.deepEqual(store.list().map((s) => s.key).sort(), ["Service/big", "Service/small"]);
    store.close();
  });
});
