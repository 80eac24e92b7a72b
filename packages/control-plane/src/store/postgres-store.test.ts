import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { createBodyCipher } from "./body-cipher.ts";
import type { ModelObject } from "../model/model-object.ts";
import { openPostgresStore, redactStoreUrl } from "./postgres-store.ts";
import { postgresMigrations, postgresSchemaVersion } from "./postgres-schema.ts";
import { StoreError } from "./store-error.ts";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./throwaway-postgres.ts";

let server: ThrowawayPostgres;
before(async () => {
  server = await startThrowawayPostgres();
});
after(() => server?.destroy());
let n = 0;

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function freshDatabase(): Promise<string> {
  const name = `p${n++}`;
  await sql(server.url, `CREATE DATABASE ${name}`);
  return server.url.replace(/\/postgres$/, `/${name}`);
}

const note = (name: string, value: string): ModelObject => ({ apiVersion: "v1", kind: "Note", metadata: { name }, spec: { value } });

/** Polls every 20 ms for at most 10 s. */
async function eventually(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(fn(), `timed out waiting for ${what}`);
}

const isCode = (code: string, ...parts: string[]) => (e: unknown) => e instanceof StoreError && e.code === code && parts.every((p) => e.message.includes(p));

describe("PostgreSQL store", () => {
  it("migrates once when replicas start together, recording the version in schema_migrations", async () => {
    const url = await freshDatabase();
    const stores = await Promise.all([0, 1, 2].map(() => openPostgresStore({ url })));
    try {
      const rows = await sql<{ version: number }>(url, "SELECT version FROM schema_migrations ORDER BY version");
      assert.deepEqual(rows.map((r) => r.version), postgresMigrations.map((m) => m.version));
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it("refuses a database whose schema is newer than this build, naming the version and the fix", async () => {
    const url = await freshDatabase();
    await (await openPostgresStore({ url })).close();
    await sql(url, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
    await assert.rejects(() => openPostgresStore({ url }), isCode("store_schema_unsupported", "schema version 99", `this control plane's ${postgresSchemaVersion}`, "every replica"));
  });

  it("refuses to start when the database cannot be reached, naming the store (without its password) and the fix", async () => {
    const url = `postgres://someone:hunter2@127.0.0.1:${server.port + 1}/nowhere`;
    await assert.rejects(() => openPostgresStore({ url }), isCode("store_unavailable", "postgres://someone:***@127.0.0.1", "--store"));
    assert.equal(redactStoreUrl(url).includes("hunter2"), false);
  });

  it("refuses sealed bodies without the key every replica shares", async () => {
    const url = await freshDatabase();
    const sealed = await openPostgresStore({ url, cipher: createBodyCipher(randomBytes(32)) });
    await sealed.commit({ upserts: [note("tls", "secret")], source: "api" });
    await sealed.close();
    await assert.rejects(() => openPostgresStore({ url }), isCode("store_key", "--store-key-file"));
  });

  it("tells its listener of revisions another replica wrote, and catches up after its LISTEN connection was cut", async () => {
    const url = await freshDatabase();
    const a = await openPostgresStore({ url });
    const b = await openPostgresStore({ url, reconnect: { minMs: 20, maxMs: 200 } });
    try {
      let told = 0;
      b.onExternalChange(() => told++);
      await a.commit({ upserts: [note("x", "1")], source: "api" });
      await eventually("B to read A's revision", () => b.currentRevision() === 1 && told > 0);
      assert.deepEqual(b.get("Note/x")?.object, note("x", "1"));

      // Every LISTEN connection is cut; A writes at once, so B may never get its notification.
      await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
      await a.commit({ upserts: [note("x", "2")], source: "api" });
      await eventually("B to catch up after reconnecting", () => b.currentRevision() === 2 && b.health().state === "ok");
      assert.deepEqual(b.get("Note/x")?.object, note("x", "2"));
      assert.deepEqual(b.history().map((h) => h.revision), [2, 1]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("while the server is down: reads still answer, writes are store_unavailable, health says why; back up: writes work", async () => {
    const own = await startThrowawayPostgres();
    try {
      const store = await openPostgresStore({ url: own.url, reconnect: { minMs: 20, maxMs: 200 } });
      try {
        await store.commit({ upserts: [note("x", "1")], source: "api" });
        own.stop();
        await assert.rejects(() => store.commit({ upserts: [note("x", "2")], source: "api" }), isCode("store_unavailable", "unreachable", "nothing was changed", "revision 1"));
        await eventually("health to say unavailable", () => store.health().state === "unavailable");
        assert.match(store.health().reason ?? "", /cannot reach postgres:\/\/.*--store/);
        assert.deepEqual(store.get("Note/x")?.object, note("x", "1"));
        own.start();
        await eventually("health to be ok again", () => store.health().state === "ok");
        assert.equal((await store.commit({ upserts: [note("x", "2")], source: "api" })).revision?.revision, 2);
      } finally {
        await store.close();
      }
    } finally {
      own.destroy();
    }
  });
});
