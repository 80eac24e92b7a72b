import type pg from "pg";
import { StoreError, StoreErrorCode } from "./store-error.ts";

/**
 * The PostgreSQL store's schema, one migration per version, applied in order and recorded in
 * `schema_migrations`. A migration is only ever appended: a released one never changes.
 */
export const postgresMigrations: readonly { readonly version: number; readonly name: string; readonly sql: string }[] = [
  {
    version: 1,
    name: "revisions, object versions, objects, rollouts",
    // The same tables as the embedded store (object-store.ts), plus each version's owner
    // (`source`), so a replica's mirror rebuilds `objects` from the versions it reads in.
    sql: `
      CREATE TABLE revisions (
        revision BIGINT PRIMARY KEY,
        created_at TEXT NOT NULL,
        source TEXT NOT NULL,
        summary TEXT NOT NULL
      );
      CREATE TABLE object_versions (
        revision BIGINT NOT NULL REFERENCES revisions(revision),
        key TEXT NOT NULL,
        action TEXT NOT NULL,
        body TEXT,
        source TEXT NOT NULL,
        PRIMARY KEY (key, revision)
      );
      CREATE INDEX object_versions_revision ON object_versions (revision);
      CREATE TABLE objects (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        revision BIGINT NOT NULL,
        source TEXT NOT NULL
      );
      CREATE TABLE rollouts (
        id BIGINT PRIMARY KEY,
        body TEXT NOT NULL
      );`,
  },
  {
    version: 2,
    name: "replica leases, proxies per replica, singleton holders",
    // Issue 10 items 4 and 5. Lease times are the database's clock (now()), so replicas with
    // skewed clocks agree on which leases have expired.
    sql: `
      CREATE TABLE replica_leases (
        replica_id TEXT PRIMARY KEY,
        renewed_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      );
      CREATE TABLE replica_proxies (
        replica_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        status TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (replica_id, node_id)
      );
      CREATE TABLE singleton_holders (
        work TEXT PRIMARY KEY,
        replica_id TEXT NOT NULL,
        backend_pid INTEGER NOT NULL,
        lock_key BIGINT NOT NULL,
        since TIMESTAMPTZ NOT NULL
      );`,
  },
];

/** The newest schema version this build knows. */
export const postgresSchemaVersion = Math.max(...postgresMigrations.map((m) => m.version));

/** Held (transaction-scoped) while migrating: two replicas starting together do not both migrate. */
const migrationLock = 7_210_001;

/**
 * Brings the database's schema to this build's version, in one transaction under an advisory
 * lock. A database migrated by a newer control plane is refused: this build would misread it.
 */
export async function migratePostgres(client: pg.ClientBase, location: string): Promise<{ from: number; to: number }> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [migrationLock]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    const found = await client.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations");
    const from = Number(found.rows[0]?.v ?? 0);
    if (from > postgresSchemaVersion) {
      throw new StoreError(
        StoreErrorCode.UnsupportedSchema,
        `the store ${location} has schema version ${from}, newer than this control plane's ${postgresSchemaVersion}: run the control plane version that migrated it (or a newer one) on every replica`,
      );
    }
    for (const m of postgresMigrations) {
      if (m.version <= from) continue;
      await client.query(m.sql);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
    }
    await client.query("COMMIT");
    return { from, to: Math.max(from, postgresSchemaVersion) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
