import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, it } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { openObjectStore } from "./object-store.ts";
import { StoreError } from "./store-error.ts";

const dir = mkdtempSync(join(tmpdir(), "cp-store-rollouts-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("keeps rollout records across a reopen, newest first, a save replacing the record of its id", async () => {
  const file = join(dir, "control-plane.db");
  const store = openObjectStore({ file });
  assert.deepEqual(store.rollouts(), []);
  await store.saveRollout({ id: 2, body: '{"state":"canary"}' });
  await store.saveRollout({ id: 5, body: '{"state":"canary"}' });
  await store.saveRollout({ id: 2, body: '{"state":"failed"}' });
  store.close();
  const again = openObjectStore({ file });
  assert.deepEqual(again.rollouts(), [
    { id: 5, body: '{"state":"canary"}' },
    { id: 2, body: '{"state":"failed"}' },
  ]);
  assert.deepEqual(again.rollouts({ limit: 1 }), [{ id: 5, body: '{"state":"canary"}' }]);
  // Rollouts are not revisions: the object history is untouched.
  assert.equal(again.currentRevision(), 0);
  again.close();
});

const service = (name: string, note = "") => ({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name }, spec: { endpoints: [{ address: "127.0.0.1", port: 8080 }], ...(note === "" ? {} : { note }) } }) as unknown as ModelObject;

it("writes a rollout with the revision it starts, in one transaction: both found after a reopen, or neither (issue 11 crash window)", async () => {
  const file = join(dir, "commit-rollout.db");
  let limit: number | undefined;
  const store = openObjectStore({ file, maxPageCount: () => limit });
  await store.commit({ upserts: [service("a")], source: "test" });
  const started = await store.commit({ upserts: [service("a", "v2")], source: "api" }, { rollout: { id: 2, body: '{"state":"canary","toRevision":2}' } });
  assert.equal(started.revision?.revision, 2);
  await store.close();
  const again = openObjectStore({ file, maxPageCount: () => limit });
  assert.equal(again.currentRevision(), 2);
  assert.deepEqual(again.rollouts(), [{ id: 2, body: '{"state":"canary","toRevision":2}' }], "the rollout is there with its revision");

  // A rollout record that cannot be written (SQLITE_FULL: the database may not grow) takes its revision with it.
  const db = new DatabaseSync(file);
  limit = Number((db.prepare("PRAGMA page_count").get() as Record<string, unknown>)["page_count"]);
  db.close();
  await assert.rejects(again.commit({ upserts: [service("a", "v3")], source: "api" }, { rollout: { id: 3, body: JSON.stringify({ padding: "x".repeat(256 * 1024) }) } }), (e: unknown) => e instanceof StoreError && e.code === "disk_full");
  limit = undefined;
  assert.equal(again.currentRevision(), 2, "no revision without its rollout record");
  assert.deepEqual(again.rollouts().map((r) => r.id), [2]);

  // A rollout for another revision than the commit creates (a writer came in between) writes neither.
  await assert.rejects(again.commit({ upserts: [service("a", "v3")], source: "api" }, { rollout: { id: 9, body: "{}" } }), (e: unknown) => e instanceof StoreError && e.code === "conflict" && /revision 9, but this change would be revision 3/.test(e.message));
  // A change refused, or equal to what is stored, creates no revision and no rollout.
  assert.equal((await again.commit({ upserts: [service("a", "v3")], source: "api" }, { rollout: { id: 3, body: "{}" }, accept: () => false })).changed, false);
  assert.equal((await again.commit({ upserts: [service("a", "v2")], source: "api" }, { rollout: { id: 3, body: "{}" } })).changed, false);
  assert.equal(again.currentRevision(), 2);
  assert.deepEqual(again.rollouts().map((r) => r.id), [2]);
  await again.close();
});
