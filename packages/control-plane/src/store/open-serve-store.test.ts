import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openObjectStore } from "./object-store.ts";
import { readStoreState } from "./store-state-marker.ts";
import { openServeStore } from "./open-serve-store.ts";
import { StartupError } from "../startup/startup-error.ts";

// Issue 14: the last good configuration is never replaced by nothing.

const root = mkdtempSync(join(tmpdir(), "cp-open-store-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const service = (name: string) => ({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name }, spec: { endpoints: [{ address: "127.0.0.1", port: 1 }] } });

/** A data directory whose last run stored two objects. */
async function usedDataDir(): Promise<{ dataDir: string; file: string }> {
  const dataDir = join(root, `d${n++}`);
  const store = openServeStore({ dataDir });
  await store.commit({ upserts: [service("a"), service("b")], source: "test" });
  store.close();
  return { dataDir, file: join(dataDir, "control-plane.db") };
}

const refused = (code: string, ...parts: string[]) => (e: unknown) => {
  assert.ok(e instanceof StartupError, String(e));
  assert.equal(e.code, code);
  for (const p of parts) assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} should include ${JSON.stringify(p)}`);
  return true;
};

describe("opening the store for serve", () => {
  it("opens a new data directory empty and records it", async () => {
    const dataDir = join(root, `d${n++}`);
    const store = openServeStore({ dataDir });
    assert.equal(store.currentRevision(), 0);
    store.close();
    const read = readStoreState(join(dataDir, "store-state.json"));
    assert.ok(read.found && read.state?.objects === 0);
    openServeStore({ dataDir }).close();
  });

  it("reopens a used store", async () => {
    const { dataDir } = await usedDataDir();
    const store = openServeStore({ dataDir });
    assert.equal(store.list().length, 2);
    store.close();
  });

  it("refuses a store truncated to 0 bytes, naming the file, what the last run had and both ways out", async () => {
    const { dataDir, file } = await usedDataDir();
    truncateSync(file, 0);
    for (const s of ["-wal", "-shm"]) rmSync(file + s, { force: true });
    assert.throws(
      () => openServeStore({ dataDir }),
      refused("store_lost", file, "was empty (0 bytes)", "revision 1 with 2 objects", "tcp restore", "--allow-empty-store"),
    );
    // Refusing wrote nothing: the marker still tells the next start what was lost.
    assert.throws(() => openServeStore({ dataDir }), refused("store_lost"));
  });

  it("refuses a deleted store, and one whose rows were emptied", async () => {
    const a = await usedDataDir();
    unlinkSync(a.file);
    assert.throws(() => openServeStore({ dataDir: a.dataDir }), refused("store_lost", "did not exist"));
    const b = await usedDataDir();
    const raw = openObjectStore({ file: b.file });
    await raw.commit({ deletes: ["Service/a", "Service/b"], source: "test" });
    raw.close();
    // Deleting every object through the store is a change like any other: it updates nothing here...
    assert.throws(() => openServeStore({ dataDir: b.dataDir }), refused("store_lost", "holds no objects"));
    // ...but through a store that keeps the marker (as serve's does), it is accepted.
    const c = await usedDataDir();
    const store = openServeStore({ dataDir: c.dataDir });
    await store.commit({ deletes: ["Service/a", "Service/b"], source: "test" });
    store.close();
    openServeStore({ dataDir: c.dataDir }).close();
  });

  it("starts empty with allowEmptyStore, and the next start accepts the empty store", async () => {
    const { dataDir, file } = await usedDataDir();
    truncateSync(file, 0);
    const lines: string[] = [];
    const store = openServeStore({ dataDir, allowEmptyStore: true, log: (l) => lines.push(l) });
    assert.equal(store.list().length, 0);
    store.close();
    assert.match(lines.join("\n"), /--allow-empty-store: the store .* is empty/);
    openServeStore({ dataDir }).close();
  });

  it("refuses a store truncated half-way, naming the file", async () => {
    const dataDir = join(root, `d${n++}`);
    const store = openServeStore({ dataDir });
    for (let i = 0; i < 40; i++) await store.commit({ upserts: [{ ...service(`s${i}`), metadata: { name: `s${i}`, labels: { pad: "x".repeat(2000) } } }], source: "test" });
    store.close();
    const file = join(dataDir, "control-plane.db");
    for (const s of ["-wal", "-shm"]) rmSync(file + s, { force: true });
    truncateSync(file, Math.floor(statSync(file).size / 2));
    assert.throws(() => openServeStore({ dataDir }), refused("store_corrupt", file, "tcp restore"));
  });

  it("refuses a damaged store; allowEmptyStore moves it aside, keeping it", async () => {
    const { dataDir, file } = await usedDataDir();
    for (const s of ["-wal", "-shm"]) rmSync(file + s, { force: true });
    writeFileSync(file, "garbage where a database was");
    assert.throws(() => openServeStore({ dataDir }), refused("store_corrupt", file, "tcp restore", "--allow-empty-store"));
    const store = openServeStore({ dataDir, allowEmptyStore: true });
    store.close();
    const aside = readdirSync(dataDir).filter((f) => f.startsWith("control-plane.db.damaged-"));
    assert.equal(aside.length, 1);
    assert.ok(existsSync(join(dataDir, aside[0] ?? "")));
  });
});
