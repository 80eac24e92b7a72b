import pg from "pg";
import { type BodyCipher, isSealedBody } from "./body-cipher.ts";
import {
  type CommitResult,
  type ObjectStore,
  openStoreMirror,
  type PendingRevision,
  type PurgeResult,
  type StoreDump,
  type StoreHealth,
  type StoredRollout,
} from "./object-store.ts";
import { migratePostgres } from "./postgres-schema.ts";
import { StoreError, StoreErrorCode } from "./store-error.ts";

export interface PostgresStoreOptions {
  /** `postgres://user[:password]@host:port/db` (libpq-style query parameters are passed on to the driver). */
  readonly url: string;
  /** Seals bodies at rest (body-cipher.ts); every replica must be given the same key. */
  readonly cipher?: BodyCipher;
  readonly log?: (line: string, fields?: { level?: "info" | "warn" | "error" }) => void;
  /** Reconnect backoff: from `minMs` (100) doubling to `maxMs` (5,000). */
  readonly reconnect?: { readonly minMs?: number; readonly maxMs?: number };
}

/** The channel every replica LISTENs on; the payload is the new revision (or "rollout", "purge"). */
export const revisionsChannel = "tcp_revisions";
/** Held (transaction-scoped) by every write: one writer at a time across all replicas. */
const writeLock = 7_210_002;

/** The URL with its password taken out, for messages, logs and status. */
export function redactStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** Socket errors (ECONNREFUSED...), the driver's own, SQLSTATE 08 (connection) and 57P (server shutting down). */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof StoreError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (/^E[A-Z]+$/.test(code) || /^(08|57P)/.test(code))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|Connection closed/i.test(error.message);
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message || String((error as { code?: unknown }).code ?? error.name) : String(error));

/**
 * The PostgreSQL store (issue 10): N replicas on one database. Each replica keeps an in-memory
 * SQLite mirror (the embedded store on `:memory:`), so every read stays synchronous and behaves
 * exactly as the embedded store's. A write takes a transaction-scoped advisory lock, catches the
 * mirror up, plans and judges on it exactly as a local commit (so `expectedRevision` conflicts
 * answer 409 across replicas as on one), writes the rows, NOTIFYs, commits, then applies to the
 * mirror. Every replica LISTENs and catches up on a notification and after every (re)connect,
 * so a missed notification loses nothing.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<ObjectStore> {
  const location = redactStoreUrl(options.url);
  const log = options.log ?? (() => {});
  const cipher = options.cipher;
  const minMs = options.reconnect?.minMs ?? 100;
  const maxMs = options.reconnect?.maxMs ?? 5_000;
  const { store: local, mirror } = openStoreMirror({ name: location });
  // Fails fast when the server is down, so a write answers 503 at once instead of hanging.
  const pool = new pg.Pool({ connectionString: options.url, max: 4, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 10_000 });
  let health: StoreHealth = { kind: "postgres", location, state: "ok" };
  const listeners = new Set<() => void>();
  let listenClient: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let backoff = minMs;
  let closed = false;

  const markDown = (error: unknown): void => {
    if (health.state === "unavailable") return;
    health = {
      kind: "postgres",
      location,
      state: "unavailable",
      reason: `cannot reach ${location} (${messageOf(error)}): writes are refused (503 store_unavailable) and the last configuration read (revision ${local.currentRevision()}) is still served; reconnecting with backoff. Start PostgreSQL or fix --store (env CONTROL_PLANE_STORE)`,
      since: new Date().toISOString(),
    };
    log(`store: ${health.reason}`, { level: "error" });
  };
  const markUp = (): void => {
    // Up only with the LISTEN connection in place: without it, other replicas' revisions would go unseen.
    if (health.state === "ok" || listenClient === undefined) return;
    log(`store: ${location} is reachable again; caught up to revision ${local.currentRevision()}`);
    health = { kind: "postgres", location, state: "ok" };
  };
  const unavailable = (error: unknown): StoreError =>
    new StoreError(
      StoreErrorCode.Unavailable,
      `the store ${location} is unreachable (${messageOf(error)}): nothing was changed. This replica keeps serving revision ${local.currentRevision()}; start PostgreSQL (or fix --store), then send the change again`,
    );
  const notify = (): void => {
    for (const l of listeners) {
      try {
        l();
      } catch (error) {
        log(`store: a change listener failed: ${messageOf(error)}`, { level: "error" });
      }
    }
  };
  // Idle clients that lose their server (a PostgreSQL restart) report here instead of crashing the process.
  pool.on("error", (error) => markDown(error));
  // A client checked out of the pool emits its own "error" when the server goes away mid-query
  // (the query rejects too); with no listener Node would end the process on it.
  pool.on("connect", (client) => client.on("error", (error) => markDown(error)));

  /** Writes and catch-ups one at a time: the mirror is never planned on while it is being caught up. */
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };

  async function connect(): Promise<pg.PoolClient> {
    if (closed) throw new StoreError(StoreErrorCode.InvalidArgument, `the store ${location} is closed`);
    try {
      return await pool.connect();
    } catch (error) {
      markDown(error);
      throw unavailable(error);
    }
  }

  /** Runs fn on a pooled connection; a lost connection becomes `store_unavailable`. */
  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await connect();
    let broken: Error | undefined;
    try {
      const result = await fn(client);
      markUp();
      return result;
    } catch (error) {
      if (isConnectionError(error)) {
        broken = error as Error;
        markDown(error);
        throw unavailable(error);
      }
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken);
    }
  }

  const openBody = (body: string | null): string | null => {
    if (body === null) return null;
    if (cipher !== undefined) return cipher.open(body);
    if (isSealedBody(body)) throw new StoreError(StoreErrorCode.Key, `the store ${location} holds encrypted objects: start every replica with the key they were written with (serve --store-key-file)`);
    return body;
  };
  const sealBody = (body: string | null): string | null => (body === null || cipher === undefined ? body : cipher.seal(body));

  /** Reads in what other replicas wrote since the mirror's revision; true when anything changed. */
  async function catchUpWith(client: pg.ClientBase): Promise<boolean> {
    const from = local.currentRevision();
    const bounds = await client.query<{ oldest: string; newest: string }>("SELECT COALESCE(MIN(revision), 0) AS oldest, COALESCE(MAX(revision), 0) AS newest FROM revisions");
    const oldest = Number(bounds.rows[0]?.oldest ?? 0);
    const newest = Number(bounds.rows[0]?.newest ?? 0);
    const rollouts = (await client.query<{ id: string; body: string }>("SELECT id, body FROM rollouts ORDER BY id")).rows.map((r) => ({ id: Number(r.id), body: r.body }));
    let changed = false;
    const before = local.rollouts();
    if (JSON.stringify([...before].reverse()) !== JSON.stringify(rollouts)) {
      mirror.setRollouts(rollouts);
      changed = true;
    }
    // A purge elsewhere (the oldest moved), or a mirror starting on a purged database: start over.
    const purgedElsewhere = newest > 0 && (from > 0 ? oldest !== local.oldestRevision() : oldest > 1);
    if (newest < from || purgedElsewhere) {
      mirror.replaceAll(await dumpWith(client, rollouts));
      return true;
    }
    if (newest === from) return changed;
    const revisions = await client.query<{ revision: string; created_at: string; source: string; summary: string }>(
      "SELECT revision, created_at, source, summary FROM revisions WHERE revision > $1 AND revision <= $2 ORDER BY revision",
      [from, newest],
    );
    const versions = await client.query<{ revision: string; key: string; action: string; body: string | null; source: string }>(
      "SELECT revision, key, action, body, source FROM object_versions WHERE revision > $1 AND revision <= $2 ORDER BY revision, key",
      [from, newest],
    );
    const byRevision = new Map<number, PendingRevision["changes"][number][]>();
    for (const v of versions.rows) {
      const n = Number(v.revision);
      const list = byRevision.get(n) ?? [];
      list.push({ key: v.key, action: v.action as "created" | "updated" | "deleted", body: openBody(v.body), source: v.source });
      byRevision.set(n, list);
    }
    for (const r of revisions.rows) {
      const revision = Number(r.revision);
      mirror.apply({ revision, createdAt: r.created_at, source: r.source, summary: r.summary, changes: byRevision.get(revision) ?? [] });
    }
    return true;
  }

  async function dumpWith(client: pg.ClientBase, rollouts: readonly StoredRollout[]): Promise<StoreDump> {
    const revisions = await client.query<{ revision: string; created_at: string; source: string; summary: string }>("SELECT revision, created_at, source, summary FROM revisions ORDER BY revision");
    const versions = await client.query<{ revision: string; key: string; action: string; body: string | null }>("SELECT revision, key, action, body FROM object_versions ORDER BY revision, key");
    const objects = await client.query<{ key: string; body: string; revision: string; source: string }>("SELECT key, body, revision, source FROM objects ORDER BY key");
    return {
      revisions: revisions.rows.map((r) => ({ revision: Number(r.revision), createdAt: r.created_at, source: r.source, summary: r.summary })),
      versions: versions.rows.map((v) => ({ revision: Number(v.revision), key: v.key, action: v.action, body: openBody(v.body) })),
      objects: objects.rows.map((o) => ({ key: o.key, body: openBody(o.body) ?? "", revision: Number(o.revision), source: o.source })),
      rollouts,
    };
  }

  /** The rows of one revision, in the transaction the caller holds. */
  async function insertRevision(client: pg.ClientBase, pending: PendingRevision): Promise<void> {
    const { revision, changes } = pending;
    await client.query("INSERT INTO revisions (revision, created_at, source, summary) VALUES ($1, $2, $3, $4)", [revision, pending.createdAt, pending.source, pending.summary]);
    const keys = changes.map((c) => c.key);
    const bodies = changes.map((c) => sealBody(c.body));
    // One statement per table whatever the size of the change (20,000 objects: issue 14).
    await client.query("INSERT INTO object_versions (revision, key, action, body, source) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])", [
      revision,
      keys,
      changes.map((c) => c.action),
      bodies,
      changes.map((c) => c.source),
    ]);
    const kept = changes.map((c, i) => ({ c, body: bodies[i] ?? null })).filter(({ c }) => c.action !== "deleted");
    if (kept.length > 0) {
      await client.query(
        "INSERT INTO objects (key, body, revision, source) SELECT k, b, $1, s FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, b, s) ON CONFLICT (key) DO UPDATE SET body = excluded.body, revision = excluded.revision, source = excluded.source",
        [revision, kept.map(({ c }) => c.key), kept.map(({ body }) => body ?? ""), kept.map(({ c }) => c.source)],
      );
    }
    const deleted = changes.filter((c) => c.action === "deleted").map((c) => c.key);
    if (deleted.length > 0) await client.query("DELETE FROM objects WHERE key = ANY($1::text[])", [deleted]);
    // A rollout started by this change is stored in the revision's own transaction (issue 11: no
    // revision meant for a canary without its rollout, which a restart would serve to everyone).
    if (pending.rollout !== undefined) {
      await client.query("INSERT INTO rollouts (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body", [pending.rollout.id, pending.rollout.body]);
    }
  }

  const lockAndCatchUp = async (client: pg.ClientBase): Promise<boolean> => {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [writeLock]);
    return catchUpWith(client);
  };

  let catchUpQueued: Promise<void> | undefined;
  /** A catch-up after the running one (notifications that arrive meanwhile fold into it). */
  function requestCatchUp(): Promise<void> {
    if (closed) return Promise.resolve();
    if (catchUpQueued !== undefined) return catchUpQueued;
    const run = serial(async () => {
      catchUpQueued = undefined;
      const changed = await withClient((client) => catchUpWith(client));
      if (changed) notify();
    }).catch((error: unknown) => {
      if (!(error instanceof StoreError && error.code === StoreErrorCode.Unavailable)) log(`store: catching up from ${location} failed: ${messageOf(error)}`, { level: "error" });
    });
    catchUpQueued = run;
    return run;
  }

  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 3_000 });
    let lost = false;
    const onLost = (error: unknown): void => {
      if (lost) return;
      lost = true;
      if (listenClient === client) listenClient = undefined;
      client.end().catch(() => {});
      if (closed) return;
      markDown(error);
      scheduleReconnect();
    };
    client.on("error", onLost);
    client.on("end", () => onLost(new Error("the connection was closed")));
    client.on("notification", () => void requestCatchUp());
    try {
      await client.connect();
      await client.query(`LISTEN ${revisionsChannel}`);
    } catch (error) {
      lost = true;
      client.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    listenClient = client;
    backoff = minMs;
    // After every (re)connect: what was written while we did not listen is read now.
    await requestCatchUp();
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      listen().catch((error: unknown) => {
        markDown(error);
        backoff = Math.min(backoff * 2, maxMs);
        scheduleReconnect();
      });
    }, backoff);
  }

  // Start: migrate, read everything in, then listen. A database we cannot reach at start is an error:
  // this replica would have no configuration to serve.
  let first: pg.PoolClient;
  try {
    first = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StoreError(StoreErrorCode.Unavailable, `cannot reach the store ${location} (${messageOf(error)}): start PostgreSQL, or fix the URL given to --store (env CONTROL_PLANE_STORE)`);
  }
  let released = false;
  try {
    const migrated = await migratePostgres(first, location);
    if (migrated.from !== migrated.to) log(`store: migrated ${location} from schema version ${migrated.from} to ${migrated.to}`);
    await catchUpWith(first);
    first.release();
    released = true;
    await listen();
  } catch (error) {
    if (!released) first.release();
    closed = true;
    await pool.end().catch(() => {});
    await local.close();
    throw error;
  }

  return {
    ...local,
    commit(change, commitOptions = {}): Promise<CommitResult> {
      return serial(async () => {
        let caught = false;
        try {
          return await withClient(async (client) => {
            caught = await lockAndCatchUp(client);
            // Planned and judged on the caught-up mirror inside the lock: exactly as a local commit.
            const pending = mirror.prepare(change, commitOptions);
            if (pending === undefined) {
              await client.query("ROLLBACK");
              return { changed: false, revision: undefined };
            }
            await insertRevision(client, pending);
            await client.query("SELECT pg_notify($1, $2)", [revisionsChannel, String(pending.revision)]);
            await client.query("COMMIT");
            return { changed: true, revision: mirror.apply(pending) };
          });
        } finally {
          // Revisions read in on the way are pushed even when this change lost (a 409): the
          // notification that announced them finds the mirror already caught up.
          if (caught) notify();
        }
      });
    },
    purge({ before }): Promise<PurgeResult> {
      return serial(async () => {
        const result = await withClient(async (client) => {
          await lockAndCatchUp(client);
          const current = local.currentRevision();
          if (!Number.isInteger(before) || before < 1 || before > current) {
            throw new StoreError(StoreErrorCode.InvalidArgument, `purge needs a revision from 1 to ${current} (the latest) to keep history from, got ${before}`);
          }
          // The embedded store's purge (object-store.ts), statement by statement.
          const versions = await client.query(
            `DELETE FROM object_versions v WHERE v.revision < $1 AND (v.action = 'deleted' OR EXISTS (
               SELECT 1 FROM object_versions w WHERE w.key = v.key AND w.revision > v.revision AND w.revision <= $1))`,
            [before],
          );
          await client.query("UPDATE object_versions SET revision = $1, action = 'kept' WHERE revision < $1", [before]);
          const revisions = await client.query("DELETE FROM revisions WHERE revision < $1", [before]);
          await client.query("SELECT pg_notify($1, 'purge')", [revisionsChannel]);
          await client.query("COMMIT");
          mirror.purge(before);
          // Rewrites the tables so the purged bodies (a rotated key) are gone from the files too.
          await client.query("VACUUM FULL object_versions, objects");
          return { revisions: revisions.rowCount ?? 0, versions: versions.rowCount ?? 0, oldest: local.oldestRevision() };
        });
        return result;
      });
    },
    saveRollout(record): Promise<void> {
      return serial(() =>
        withClient(async (client) => {
          await client.query("INSERT INTO rollouts (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body", [record.id, record.body]);
          await client.query("SELECT pg_notify($1, 'rollout')", [revisionsChannel]);
          mirror.setRollouts([...local.rollouts().filter((r) => r.id !== record.id), record].sort((a, b) => a.id - b.id));
        }),
      );
    },
    health: () => health,
    onExternalChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      await chain;
      await listenClient?.end().catch(() => {});
      await pool.end().catch(() => {});
      await local.close();
    },
  };
}
