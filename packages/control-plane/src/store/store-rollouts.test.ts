import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { openObjectStore } from "./object-store.ts";

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
