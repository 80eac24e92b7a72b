/**
 * Test support: the behaviours every store implementation must have, registered as node:test
 * cases for a factory (object-store's SQLite, postgres-store's PostgreSQL; issue 10 item 1).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { type BodyCipher, createBodyCipher, isSealedBody } from "./body-cipher.ts";
import type { ObjectStore } from "./object-store.ts";
import { rollbackChange } from "./rollback-change.ts";
import { StoreError } from "./store-error.ts";

/** One fresh, empty store of the implementation under test. */
export interface StoreUnderTest {
  readonly store: ObjectStore;
  /** A second handle on the same data (a reopen of the file, another replica on the database). */
  reopen(): Promise<ObjectStore>;
  /** Every body column as stored at rest (versions and current objects). */
  rawBodies(): Promise<string[]>;
}

export interface StoreFactory {
  fresh(options?: { readonly cipher?: BodyCipher }): Promise<StoreUnderTest>;
}

const backend = (name: string, port: number): ModelObject => ({
  apiVersion: "v1",
  kind: "Backend",
  metadata: { name },
  spec: { endpoints: [{ address: "127.0.0.1", port }] },
});

const isCode = (code: string, pattern?: RegExp) => (e: unknown) => e instanceof StoreError && e.code === code && (pattern === undefined || pattern.test(e.message));

export function describeStoreBehaviours(name: string, factory: StoreFactory): void {
  describe(`store behaviours: ${name}`, () => {
    it("numbers every accepted change as one revision with its full object set and history", async () => {
      const { store } = await factory.fresh();
      try {
        assert.equal(store.currentRevision(), 0);
        const r1 = await store.commit({ upserts: [backend("a", 1), backend("b", 2)], source: "api" });
        assert.equal(r1.revision?.revision, 1);
        assert.deepEqual(r1.revision?.changes, [
          { key: "Backend/a", action: "created" },
          { key: "Backend/b", action: "created" },
        ]);
        await store.commit({ upserts: [backend("a", 3)], deletes: ["Backend/b"], source: "file:x.yaml" });
        assert.equal(store.currentRevision(), 2);
        assert.deepEqual(store.list().map((s) => [s.key, s.revision, s.source]), [["Backend/a", 2, "file:x.yaml"]]);
        assert.deepEqual(store.objectsAt(1), [backend("a", 1), backend("b", 2)]);
        assert.deepEqual(store.objectsAt(2), [backend("a", 3)]);
        assert.deepEqual(
          store.history().map((h) => [h.revision, h.source, h.summary]),
          [
            [2, "file:x.yaml", "updated Backend/a, deleted Backend/b"],
            [1, "api", "created Backend/a, created Backend/b"],
          ],
        );
        assert.deepEqual(store.revision(2)?.changes, [
          { key: "Backend/a", action: "updated" },
          { key: "Backend/b", action: "deleted" },
        ]);
        assert.equal(store.revision(9), undefined);
      } finally {
        await store.close();
      }
    });

    it("creates no revision for an equal change, nor for one `accept` refuses", async () => {
      const { store } = await factory.fresh();
      try {
        await store.commit({ upserts: [backend("a", 1)], source: "api" });
        const same: ModelObject = { spec: { endpoints: [{ port: 1, address: "127.0.0.1" }] }, metadata: { name: "a" }, kind: "Backend", apiVersion: "v1" };
        assert.equal((await store.commit({ upserts: [same], deletes: ["Backend/nope"], source: "api" })).changed, false);
        let seen: string[] = [];
        const refused = await store.commit({ upserts: [backend("b", 1)], source: "api" }, {
          accept: (p) => {
            seen = p.objects.map((o) => o.metadata.name);
            return false;
          },
        });
        assert.equal(refused.changed, false);
        assert.deepEqual(seen, ["a", "b"]);
        assert.equal(store.currentRevision(), 1);
      } finally {
        await store.close();
      }
    });

    it("refuses an update whose expectedRevision is not the object's last-modified revision", async () => {
      const { store } = await factory.fresh();
      try {
        await store.commit({ upserts: [backend("a", 1)], source: "api" });
        await store.commit({ upserts: [backend("a", 2)], source: "api" });
        await assert.rejects(() => store.commit({ upserts: [backend("a", 9)], expectedRevisions: { "Backend/a": 1 }, source: "api" }), isCode("conflict", /revision 2, not 1/));
        await assert.rejects(() => store.commit({ upserts: [backend("z", 9)], expectedRevisions: { "Backend/z": 3 }, source: "api" }), isCode("conflict"));
        assert.equal((await store.commit({ upserts: [backend("a", 9)], expectedRevisions: { "Backend/a": 2 }, source: "api" })).changed, true);
        assert.equal(store.get("Backend/a")?.revision, 3);
      } finally {
        await store.close();
      }
    });

    it("conflicts across two handles on the same data: the second writer with a stale expectedRevision loses", async () => {
      const under = await factory.fresh();
      const other = await under.reopen();
      try {
        await under.store.commit({ upserts: [backend("a", 1)], source: "api" });
        await under.store.commit({ upserts: [backend("a", 2)], expectedRevisions: { "Backend/a": 1 }, source: "api" });
        await assert.rejects(() => other.commit({ upserts: [backend("a", 3)], expectedRevisions: { "Backend/a": 1 }, source: "api" }), isCode("conflict"));
        // The loser saw the winner's revision on its way: it reads it now.
        assert.equal(other.get("Backend/a")?.revision, 2);
      } finally {
        await other.close();
        await under.store.close();
      }
    });

    it("rolls back by creating a new revision equal to the old one", async () => {
      const { store } = await factory.fresh();
      try {
        await store.commit({ upserts: [backend("a", 1)], source: "api" });
        await store.commit({ upserts: [backend("a", 2), backend("b", 2)], source: "api" });
        const r = await store.commit(rollbackChange(store, 1));
        assert.equal(r.revision?.revision, 3);
        assert.equal(r.revision?.source, "rollback:1");
        assert.deepEqual(store.objectsAt(3), store.objectsAt(1));
        assert.throws(() => rollbackChange(store, 7), isCode("not_found"));
      } finally {
        await store.close();
      }
    });

    it("rolls a failed commit back as a whole", async () => {
      const { store } = await factory.fresh();
      try {
        await assert.rejects(() => store.commit({ upserts: [backend("a", 1), backend("a", 2)], source: "api" }), isCode("invalid_argument"));
        assert.equal(store.currentRevision(), 0);
        assert.deepEqual(store.list(), []);
      } finally {
        await store.close();
      }
    });

    it("keeps revisions, objects and rollouts for another handle", async () => {
      const under = await factory.fresh();
      await under.store.commit({ upserts: [backend("a", 1)], source: "api" });
      await under.store.commit({ upserts: [backend("b", 1)], source: "cli", objectSources: { "Backend/b": "file:b.yaml" } });
      await under.store.saveRollout({ id: 2, body: '{"state":"canary"}' });
      await under.store.close();
      const again = await under.reopen();
      try {
        assert.equal(again.currentRevision(), 2);
        assert.deepEqual(again.list().map((s) => [s.key, s.revision, s.source]), [
          ["Backend/a", 1, "api"],
          ["Backend/b", 2, "file:b.yaml"],
        ]);
        assert.deepEqual(again.objectsAt(1), [backend("a", 1)]);
        assert.deepEqual(again.rollouts(), [{ id: 2, body: '{"state":"canary"}' }]);
      } finally {
        await again.close();
      }
    });

    it("purges history before N, keeping every object of N and later", async () => {
      const under = await factory.fresh();
      const { store } = under;
      try {
        await store.commit({ upserts: [backend("a", 1), backend("b", 1)], source: "api" });
        await store.commit({ upserts: [backend("a", 2)], source: "api" });
        await store.commit({ upserts: [backend("b", 3)], source: "api" });
        const atTwo = store.objectsAt(2);
        const result = await store.purge({ before: 2 });
        assert.deepEqual(result, { revisions: 1, versions: 1, oldest: 2 });
        assert.equal(store.oldestRevision(), 2);
        assert.deepEqual(store.objectsAt(2), atTwo);
        assert.throws(() => store.revision(1), isCode("purged"));
        assert.deepEqual(store.history().map((h) => h.revision), [3, 2]);
        assert.equal(store.get("Backend/a")?.revision, 2);
        await assert.rejects(() => store.purge({ before: 4 }), isCode("invalid_argument"));
        const other = await under.reopen();
        try {
          assert.equal(other.oldestRevision(), 2);
          assert.deepEqual(other.objectsAt(2), atTwo);
          assert.deepEqual(other.list().map((s) => [s.key, s.revision]), store.list().map((s) => [s.key, s.revision]));
        } finally {
          await other.close();
        }
      } finally {
        await store.close();
      }
    });

    it("keeps rollout records newest first, a save replacing the record of its id", async () => {
      const { store } = await factory.fresh();
      try {
        await store.saveRollout({ id: 2, body: '{"state":"canary"}' });
        await store.saveRollout({ id: 5, body: '{"state":"canary"}' });
        await store.saveRollout({ id: 2, body: '{"state":"failed"}' });
        assert.deepEqual(store.rollouts(), [
          { id: 5, body: '{"state":"canary"}' },
          { id: 2, body: '{"state":"failed"}' },
        ]);
        assert.deepEqual(store.rollouts({ limit: 1 }), [{ id: 5, body: '{"state":"canary"}' }]);
      } finally {
        await store.close();
      }
    });

    it("writes a rollout with the revision it starts, in one transaction (issue 11 crash window)", async () => {
      const under = await factory.fresh();
      await under.store.commit({ upserts: [backend("a", 1)], source: "api" });
      const started = await under.store.commit({ upserts: [backend("a", 2)], source: "api" }, { rollout: { id: 2, body: '{"state":"canary"}' } });
      assert.equal(started.revision?.revision, 2);
      // A rollout for another revision than the commit creates (a writer came in between) writes neither.
      await assert.rejects(under.store.commit({ upserts: [backend("a", 3)], source: "api" }, { rollout: { id: 9, body: "{}" } }), isCode("conflict", /revision 9, but this change would be revision 3/));
      // A change equal to what is stored, or refused, creates no revision and no rollout.
      assert.equal((await under.store.commit({ upserts: [backend("a", 2)], source: "api" }, { rollout: { id: 3, body: "{}" } })).changed, false);
      assert.equal((await under.store.commit({ upserts: [backend("a", 3)], source: "api" }, { rollout: { id: 3, body: "{}" }, accept: () => false })).changed, false);
      await under.store.close();
      const again = await under.reopen();
      try {
        assert.equal(again.currentRevision(), 2);
        assert.deepEqual(again.rollouts(), [{ id: 2, body: '{"state":"canary"}' }], "the rollout is there with its revision, and nothing else");
      } finally {
        await again.close();
      }
    });

    it("seals bodies at rest with the cipher and reads them back in clear", async () => {
      const kek = randomBytes(32);
      const secret = `secret-${randomBytes(8).toString("hex")}`;
      const under = await factory.fresh({ cipher: createBodyCipher(kek) });
      const object: ModelObject = { apiVersion: "v1", kind: "Note", metadata: { name: "tls" }, spec: { key: secret } };
      try {
        await under.store.commit({ upserts: [object], source: "api" });
        await under.store.commit({ upserts: [{ ...object, spec: { key: `${secret}2` } }], source: "api" });
        assert.deepEqual(under.store.get("Note/tls")?.object.spec, { key: `${secret}2` });
        const raw = await under.rawBodies();
        assert.ok(raw.length >= 3, `bodies at rest: ${raw.length}`);
        for (const body of raw) {
          assert.ok(isSealedBody(body), "every body is sealed");
          assert.ok(!body.includes(secret), "no clear text at rest");
        }
        assert.equal((await under.store.commit({ upserts: [{ ...object, spec: { key: `${secret}2` } }], source: "api" })).changed, false, "equal content is unchanged whatever the nonce");
      } finally {
        await under.store.close();
      }
    });
  });
}
