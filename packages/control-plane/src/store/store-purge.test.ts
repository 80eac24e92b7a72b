import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { openObjectStore } from "./object-store.ts";
import { rollbackChange } from "./rollback-change.ts";
import { StoreError } from "./store-error.ts";
import { writeStoreState } from "./store-state-marker.ts";

const dir = mkdtempSync(join(tmpdir(), "cp-purge-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const keyPem = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const holder = (name: string, key: string, port = 1): ModelObject => ({ apiVersion: "v1", kind: "Note", metadata: { name }, spec: { key, port } });
/** The PEM body lines: what must be gone from the file. */
const bodyLines = (key: string) => key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
const fileBytes = (file: string) => ["", "-wal", "-shm"].map((s) => { try { return readFileSync(file + s).toString("latin1"); } catch { return ""; } }).join("");

describe("history purge", () => {
  it("deletes revisions before N, keeps every object of N and later, and VACUUMs the old key out of the file", async () => {
    const file = join(dir, "a", "control-plane.db");
    const store = openObjectStore({ file });
    const keyA = keyPem();
    const keyB = keyPem();
    await store.commit({ upserts: [holder("tls", keyA), holder("other", "x")], source: "api" });
    await store.commit({ upserts: [holder("tls", keyB)], source: "api" });
    await store.commit({ upserts: [holder("other", "y")], source: "api" });
    assert.ok(bodyLines(keyA).some((l) => fileBytes(file).includes(l)), "the old key is in the file before the purge");

    const result = await store.purge({ before: 2 });
    assert.deepEqual(result, { revisions: 1, versions: 1, oldest: 2 });
    for (const line of bodyLines(keyA)) assert.ok(!fileBytes(file).includes(line), `key A is gone from the file: ${line}`);
    assert.ok(bodyLines(keyB).every((l) => fileBytes(file).includes(l)), "the current key stays");

    // Revision 2 still shows Note/other as it was then (written at revision 1, kept).
    assert.deepEqual(store.objectsAt(2), [holder("other", "x"), holder("tls", keyB)]);
    assert.deepEqual(store.objectsAt(3), [holder("other", "y"), holder("tls", keyB)]);
    assert.deepEqual(store.revision(2)?.changes, [{ key: "Note/tls", action: "updated" }], "a kept version is not a change of revision 2");
    assert.deepEqual(store.history().map((r) => r.revision), [3, 2]);
    assert.equal(store.oldestRevision(), 2);
    assert.throws(() => rollbackChange(store, 1), (e: unknown) => e instanceof StoreError && e.code === "purged" && /revision 1 was purged/.test(e.message));
    await assert.rejects(() => store.purge({ before: 4 }), (e: unknown) => e instanceof StoreError && e.code === "invalid_argument");

    // The store goes on: a new commit, and a second purge up to the current revision.
    await store.commit({ upserts: [holder("tls", keyA, 2)], source: "api" });
    assert.equal((await store.purge({ before: 4 })).oldest, 4);
    assert.deepEqual(store.objectsAt(4), [holder("other", "y"), holder("tls", keyA, 2)]);
    store.close();
    const reopened = openObjectStore({ file });
    assert.deepEqual(reopened.list().map((s) => s.key), ["Note/other", "Note/tls"]);
    reopened.close();
  });

  it("creates the data directory 0700 and the database, its WAL files and the state marker 0600, even with umask 0", async () => {
    const previous = process.umask(0);
    try {
      const data = join(dir, "b", "data");
      const file = join(data, "control-plane.db");
      const store = openObjectStore({ file, stateFile: join(data, "state.json") });
      await store.commit({ upserts: [holder("n", "x")], source: "api" });
      writeStoreState(join(data, "state.json"), { revision: 1, objects: 1 });
      const mode = (p: string) => statSync(p).mode & 0o777;
      assert.equal(mode(data), 0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`, join(data, "state.json")]) assert.equal(mode(f), 0o600, f);
      store.close();
    } finally {
      process.umask(previous);
    }
  });
});
