import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ModelObject } from "../model/model-object.ts";
import { type BodyCipher, isSealedBody } from "./body-cipher.ts";
import { canonicalJson } from "./canonical-json.ts";
import { checkStoreDb, sqliteResultCode, storeSchemaVersion } from "./check-store-db.ts";
import { StoreError, StoreErrorCode } from "./store-error.ts";
import { writeStoreState } from "./store-state-marker.ts";
import { runSliced, runToEnd, type Steps } from "../model/time-slice.ts";

/** One object as stored now. */
export interface StoredObject {
  readonly key: string;
  readonly object: ModelObject;
  /** The revision that last changed this object (what `expectedRevision` is compared with). */
  readonly revision: number;
  /** Who last changed it: "api", "cli", "file:<path>", "rollback:<n>", ... */
  readonly source: string;
}

export interface RevisionChange {
  readonly key: string;
  readonly action: "created" | "updated" | "deleted";
}

export interface RevisionInfo {
  readonly revision: number;
  readonly createdAt: string;
  readonly source: string;
  readonly summary: string;
  readonly changes: readonly RevisionChange[];
}

export interface PurgeResult {
  /** Revisions deleted from history. */
  readonly revisions: number;
  /** Object versions deleted. */
  readonly versions: number;
  /** The oldest revision left. */
  readonly oldest: number;
}

export interface ChangeSet {
  readonly upserts?: readonly ModelObject[];
  /** Object keys ("Kind/name") to delete. */
  readonly deletes?: readonly string[];
  /** Optimistic concurrency: object key -> the revision the caller last saw it at (0 = must not exist). */
  readonly expectedRevisions?: Readonly<Record<string, number>>;
  readonly source: string;
  /** Per-object owner when it differs from `source` (a batch of several files: "file:<path>" each). */
  readonly objectSources?: Readonly<Record<string, string>>;
  /** Human summary; by default derived from the changes. */
  readonly summary?: string;
}

export interface CommitResult {
  /** False when the change set equals what is stored, or `accept` refused it: no revision was created. */
  readonly changed: boolean;
  readonly revision: RevisionInfo | undefined;
}

/** What a change would leave: the full object set and the effective changes. */
export interface ChangePreview {
  readonly objects: ModelObject[];
  readonly changes: RevisionChange[];
}

export interface CommitOptions {
  /**
   * Judges the change inside the write transaction, against the objects as they are at that
   * moment; false refuses it and nothing is written. Validation and write are one step, so a
   * concurrent delete can never slip between them and leave a dangling reference (issue 14).
   */
  readonly accept?: (preview: ChangePreview) => boolean;
  /**
   * A rollout record written in the same transaction as the revision (issue 11): a crash can
   * never leave a revision meant for a canary stored without its rollout, which a restart would
   * then serve to every proxy. Its id must be the revision this commit creates (a writer that
   * committed in between throws StoreError `conflict`, and nothing is written); not written when
   * no revision is created.
   */
  readonly rollout?: StoredRollout;
}

/** How the store is doing, for /healthz and the status report (issue 10 item 7). */
export interface StoreHealth {
  /** "sqlite" or "postgres". */
  readonly kind: "sqlite" | "postgres";
  /** The file, or the URL without its password. */
  readonly location: string;
  /** "unavailable": writes answer 503 `store_unavailable`; reads serve what the replica last caught up to. */
  readonly state: "ok" | "unavailable";
  /** Why it is unavailable, and what to do. */
  readonly reason?: string;
  /** Since when (ISO time). */
  readonly since?: string;
}

export interface ObjectStore {
  /** The newest revision number (0 for an empty store). */
  currentRevision(): number;
  list(): StoredObject[];
  get(key: string): StoredObject | undefined;
  /** The full object set as it was right after revision `revision`. */
  objectsAt(revision: number): ModelObject[];
  history(options?: { limit?: number }): RevisionInfo[];
  /** Undefined for a revision that never existed; throws StoreError `purged` for one purged from history. */
  revision(revision: number): RevisionInfo | undefined;
  /** The oldest revision history still holds (1 until a purge; 0 for an empty store). */
  oldestRevision(): number;
  /**
   * Deletes every revision older than `before` (1 <= before <= current) and the object versions
   * only those revisions needed; the objects of `before` and later stay exactly as they were.
   * Then VACUUMs, so the bytes of purged versions (a rotated key) are gone from the file.
   */
  purge(options: { before: number }): Promise<PurgeResult>;
  /** What the change would do, without writing (same checks as commit, including conflicts). */
  preview(change: ChangeSet): ChangePreview;
  /**
   * preview, giving the event loop a turn now and then (20,000 objects, issue 14). A commit
   * of the same change set object that follows at the same revision reuses this plan.
   */
  previewSliced(change: ChangeSet): Promise<ChangePreview>;
  /** Throws StoreError `disk_full` when SQLite reports SQLITE_FULL; the store stays usable. */
  commit(change: ChangeSet, options?: CommitOptions): Promise<CommitResult>;
  // Rollouts (issue 11): one record per rollout, its body owned by rollout/rollout.ts. Kept apart
  // from revisions on purpose: a rollout changes which proxies get a revision, never the objects.
  /** Writes (inserts or replaces) a rollout's record. */
  saveRollout(record: StoredRollout): Promise<void>;
  /** Rollout records, newest (highest id) first. */
  rollouts(options?: { limit?: number }): StoredRollout[];
  health(): StoreHealth;
  /**
   * Called after revisions written by another replica were read in (PostgreSQL), so the
   * caller compiles and pushes them as after its own commit; returns the unsubscribe.
   */
  onExternalChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/** A revision planned and accepted, not yet written: what both stores' write step takes. */
export interface PendingRevision {
  readonly revision: number;
  readonly createdAt: string;
  readonly source: string;
  readonly summary: string;
  /** Sorted by key; `body` is the canonical JSON (never sealed here), null for a deletion; `source` is the object's owner. */
  readonly changes: readonly PendingChange[];
  /** The parsed objects of the change, when the writer has them (saves parsing them again). */
  readonly objects?: ReadonlyMap<string, ModelObject>;
  /** CommitOptions.rollout, written by both stores' write step in the revision's own transaction (issue 11). */
  readonly rollout?: StoredRollout;
}

export interface PendingChange {
  readonly key: string;
  readonly action: RevisionChange["action"];
  readonly body: string | null;
  readonly source: string;
}

/** Every row of a store, for a mirror that starts over (bodies unsealed). */
export interface StoreDump {
  readonly revisions: readonly { revision: number; createdAt: string; source: string; summary: string }[];
  readonly versions: readonly { revision: number; key: string; action: string; body: string | null }[];
  readonly objects: readonly { key: string; body: string; revision: number; source: string }[];
  readonly rollouts: readonly StoredRollout[];
}

/**
 * The write side of an in-memory store that mirrors another (store/postgres-store.ts): plan on
 * it exactly as a local commit does, then write what the real store accepted.
 */
export interface StoreMirror {
  /** Plans and judges a change (conflicts throw as in commit); undefined when nothing changes or `accept` refused it. */
  prepare(change: ChangeSet, options?: CommitOptions): PendingRevision | undefined;
  /** Writes a revision (planned here, or read from the real store) and returns what it was. */
  apply(pending: PendingRevision): RevisionInfo;
  /** Purges as `purge` does, without the VACUUM a memory database does not need. */
  purge(before: number): PurgeResult;
  replaceAll(dump: StoreDump): void;
  setRollouts(rollouts: readonly StoredRollout[]): void;
}

/** A stored rollout: its id (the revision it rolls out) and its JSON body. */
export interface StoredRollout {
  readonly id: number;
  readonly body: string;
}

const SQLITE_FULL = 13;

const objectKey = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`;

/**
 * The embedded store on node:sqlite. Every accepted change is one revision; the
 * object versions table keeps each object's body per revision, so the full set of
 * any revision can be rebuilt (history, rollback) without storing copies.
 */
export interface ObjectStoreOptions {
  readonly file: string;
  /** Rewritten after each commit with the revision and object count (store-state-marker.ts), so a later start can tell a lost store from a new one. */
  readonly stateFile?: string;
  /**
   * A ceiling on the database size in pages (PRAGMA max_page_count), read before each commit.
   * Past it SQLite answers SQLITE_FULL exactly as on a full disk, which is how the tests drive
   * the full-disk path deterministically and then give the space back.
   */
  readonly maxPageCount?: () => number | undefined;
  /**
   * Encrypts every body written from now on (body-cipher.ts); bodies written before stay
   * readable. Without it, a store holding encrypted bodies refuses to read them.
   */
  readonly cipher?: BodyCipher;
}

export function openObjectStore(options: ObjectStoreOptions): ObjectStore {
  const { file } = options;
  if (file !== ":memory:") ownerOnly(file);
  const db = new DatabaseSync(file);
  try {
    // The check comes first: journal_mode on a file that is not a database fails with a bare "file is not a database".
    checkStoreDb(db, file);
    // WAL keeps readers off the writer's back and survives a kill -9 between commits.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 5000");
    createSchema(db);
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(StoreErrorCode.Corrupt, `the store ${file} cannot be opened: ${error instanceof Error ? error.message : String(error)}`);
  }
  return storeOn(db, options).store;
}

/** An empty in-memory store and its write side, for a replica's mirror of a shared store. */
export function openStoreMirror(options: { readonly name: string }): { store: ObjectStore; mirror: StoreMirror } {
  const db = new DatabaseSync(":memory:");
  createSchema(db);
  return storeOn(db, { file: options.name });
}

/**
 * The data directory 0700 and the database 0600 whatever the umask (issue 13: the store holds
 * keys). SQLite gives its -wal and -shm files the mode of the database, so creating the
 * database 0600 first covers them; files of an older run are tightened too.
 */
function ownerOnly(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
}

function createSchema(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS revisions (
      revision INTEGER PRIMARY KEY,
      created_at TEXT NOT NULL,
      source TEXT NOT NULL,
      summary TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS object_versions (
      revision INTEGER NOT NULL REFERENCES revisions(revision),
      key TEXT NOT NULL,
      action TEXT NOT NULL,
      body TEXT,
      PRIMARY KEY (key, revision)
    );
    CREATE TABLE IF NOT EXISTS objects (
      key TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      revision INTEGER NOT NULL,
      source TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS rollouts (
      id INTEGER PRIMARY KEY,
      body TEXT NOT NULL
    );
  `);
  // Version 0 (no user_version) had exactly these tables: recording the version is the whole migration.
  db.exec(`PRAGMA user_version = ${storeSchemaVersion}`);
}

function storeOn(db: DatabaseSync, options: ObjectStoreOptions): { store: ObjectStore; mirror: StoreMirror } {
  const { file } = options;
  const q = {
    saveRollout: db.prepare("INSERT OR REPLACE INTO rollouts (id, body) VALUES (?, ?)"),
    rollouts: db.prepare("SELECT id, body FROM rollouts ORDER BY id DESC LIMIT ?"),
    current: db.prepare("SELECT COALESCE(MAX(revision), 0) AS r FROM revisions"),
    list: db.prepare("SELECT key, body, revision, source FROM objects ORDER BY key"),
    get: db.prepare("SELECT key, body, revision, source FROM objects WHERE key = ?"),
    at: db.prepare(`
      SELECT v.key AS key, v.body AS body FROM object_versions v
      WHERE v.revision = (SELECT MAX(w.revision) FROM object_versions w WHERE w.key = v.key AND w.revision <= ?)
        AND v.action <> 'deleted'
      ORDER BY v.key`),
    history: db.prepare("SELECT revision, created_at, source, summary FROM revisions ORDER BY revision DESC LIMIT ?"),
    revision: db.prepare("SELECT revision, created_at, source, summary FROM revisions WHERE revision = ?"),
    changesOf: db.prepare("SELECT key, action FROM object_versions WHERE revision = ? AND action <> 'kept' ORDER BY key"),
    insertRevision: db.prepare("INSERT INTO revisions (revision, created_at, source, summary) VALUES (?, ?, ?, ?)"),
    insertVersion: db.prepare("INSERT INTO object_versions (revision, key, action, body) VALUES (?, ?, ?, ?)"),
    upsert: db.prepare(
      "INSERT INTO objects (key, body, revision, source) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET body = excluded.body, revision = excluded.revision, source = excluded.source",
    ),
    delete: db.prepare("DELETE FROM objects WHERE key = ?"),
    oldest: db.prepare("SELECT COALESCE(MIN(revision), 0) AS r FROM revisions"),
    // A version older than `before` is still needed when it is what `before` shows of its object:
    // the newest version of that key at or below `before`, and not a deletion.
    purgeVersions: db.prepare(`
      DELETE FROM object_versions WHERE revision < :before AND (action = 'deleted' OR EXISTS (
        SELECT 1 FROM object_versions w WHERE w.key = object_versions.key AND w.revision > object_versions.revision AND w.revision <= :before))`),
    // What is left below `before` moves to `before` as 'kept': present in objectsAt, not a change of that revision.
    keepVersions: db.prepare("UPDATE object_versions SET revision = :before, action = 'kept' WHERE revision < :before"),
    purgeRevisions: db.prepare("DELETE FROM revisions WHERE revision < :before"),
  };

  const cipher = options.cipher;
  /** The body as written by the caller (canonical JSON), from the column. */
  const bodyOf = (row: Record<string, unknown>): string => {
    const stored = String(row["body"]);
    if (cipher !== undefined) return cipher.open(stored);
    if (isSealedBody(stored)) {
      throw new StoreError(StoreErrorCode.Key, `the store ${file} holds encrypted objects: start with the key they were written with (serve --store-key-file)`);
    }
    return stored;
  };
  const seal = (body: string | null): string | null => (body === null || cipher === undefined ? body : cipher.seal(body));
  const currentRevision = (): number => Number((q.current.get() as { r: number }).r);
  const oldestRevision = (): number => Number((q.oldest.get() as { r: number }).r);
  /** A body that fails to parse names the object and revision, not "Unexpected end of JSON input". */
  const parse = (row: Record<string, unknown>, revision: unknown): ModelObject => {
    try {
      return JSON.parse(bodyOf(row)) as ModelObject;
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(
        StoreErrorCode.Corrupt,
        `the store ${file} is damaged: the body of ${String(row["key"])} (revision ${String(revision)}) does not parse (${error instanceof Error ? error.message : String(error)}); restore it from a backup with \`tcp restore\``,
      );
    }
  };
  const toStored = (row: Record<string, unknown>): StoredObject => ({
    key: String(row["key"]),
    object: parse(row, row["revision"]),
    revision: Number(row["revision"]),
    source: String(row["source"]),
  });
  const toInfo = (row: Record<string, unknown>): RevisionInfo => {
    const revision = Number(row["revision"]);
    const changes = q.changesOf.all(revision).map((c) => ({
      key: String(c["key"]),
      action: String(c["action"]) as RevisionChange["action"],
    }));
    return { revision, createdAt: String(row["created_at"]), source: String(row["source"]), summary: String(row["summary"]), changes };
  };
  const get = (key: string): StoredObject | undefined => {
    const row = q.get.get(key);
    return row === undefined ? undefined : toStored(row);
  };

  /**
   * The current objects, parsed once per revision and kept: every change used
   * to read and parse every row twice (preview and commit), which dominated the
   * cost of a change at 10,000 objects. Keeping the same object instances
   * across revisions also lets the incremental compiler skip unchanged objects.
   * Keyed by revision, so a write by another process is picked up on next use.
   */
  let cached: { revision: number; byKey: Map<string, StoredObject & { body: string }> } | undefined;
  function currentObjects(): Map<string, StoredObject & { body: string }> {
    const revision = currentRevision();
    if (cached === undefined || cached.revision !== revision) {
      const byKey = new Map<string, StoredObject & { body: string }>();
      for (const row of q.list.all()) {
        // Opened once: with a cipher each open is two AES-GCM decryptions.
        const body = bodyOf(row);
        byKey.set(String(row["key"]), { ...toStored({ ...row, body }), body });
      }
      cached = { revision, byKey };
    }
    return cached.byKey;
  }

  /**
   * The last plan made by previewSliced, for commit to reuse when it commits that very change
   * set at the same revision: planning 20,000 objects again would hold the write transaction,
   * and the event loop, another 100 ms (issue 14).
   */
  let planned: { change: ChangeSet; revision: number; plan: Plan } | undefined;

  /** Resolves a change set against the stored objects: the effective changes, after conflict checks. */
  function plan(change: ChangeSet): Plan {
    const revision = currentRevision();
    if (planned !== undefined && planned.change === change && planned.revision === revision) return planned.plan;
    return runToEnd(planSteps(change));
  }

  function* planSteps(change: ChangeSet): Steps<Plan> {
    const current = currentObjects();
    for (const [key, expected] of Object.entries(change.expectedRevisions ?? {})) {
      const actual = current.get(key)?.revision ?? 0;
      if (actual !== expected) {
        throw new StoreError(
          StoreErrorCode.Conflict,
          `${key} was changed at revision ${actual}, not ${expected}: read it again and reapply your change on top`,
        );
      }
    }
    const objects = new Map<string, ModelObject>([...current].map(([k, s]) => [k, s.object]));
    const changes: (RevisionChange & { body?: string })[] = [];
    const seen = new Set<string>();
    for (const object of change.upserts ?? []) {
      yield;
      const key = objectKey(object);
      if (seen.has(key)) throw new StoreError(StoreErrorCode.InvalidArgument, `${key} appears twice in one change`);
      seen.add(key);
      const body = canonicalJson(object);
      const before = current.get(key);
      // Stored bodies are canonical JSON, so equal text is equal content.
      if (before !== undefined && before.body === body) continue;
      objects.set(key, JSON.parse(body) as ModelObject);
      changes.push({ key, action: before === undefined ? "created" : "updated", body });
    }
    for (const key of change.deletes ?? []) {
      if (seen.has(key)) throw new StoreError(StoreErrorCode.InvalidArgument, `${key} is both changed and deleted in one change`);
      seen.add(key);
      if (!current.has(key)) continue;
      objects.delete(key);
      changes.push({ key, action: "deleted" });
    }
    changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { changes, objects };
  }

  /** The marker is a hint for the next start: a failure to write it (a full disk) must not undo a commit. */
  function writeState(revision: number): void {
    if (options.stateFile === undefined) return;
    try {
      // The kept objects are current after a commit; counting rows would scan the table on every change.
      const objects = cached?.revision === revision ? cached.byKey.size : Number((db.prepare("SELECT COUNT(*) AS n FROM objects").get() as Record<string, unknown>)["n"]);
      writeStoreState(options.stateFile, { revision, objects });
    } catch {
      // The next commit writes it again; startup also rewrites it.
    }
  }

  function summarize(changes: readonly RevisionChange[]): string {
    const parts = changes.slice(0, 5).map((c) => `${c.action} ${c.key}`);
    if (changes.length > 5) parts.push(`and ${changes.length - 5} more`);
    return parts.join(", ");
  }

  /** Inserts a revision's rows; the caller holds the transaction. */
  function writeRevision(pending: PendingRevision): void {
    q.insertRevision.run(pending.revision, pending.createdAt, pending.source, pending.summary);
    for (const c of pending.changes) {
      const stored = seal(c.body);
      q.insertVersion.run(pending.revision, c.key, c.action, stored);
      if (c.action === "deleted") q.delete.run(c.key);
      else q.upsert.run(c.key, stored ?? "", pending.revision, c.source);
    }
    if (pending.rollout !== undefined) q.saveRollout.run(pending.rollout.id, pending.rollout.body);
  }

  /** Keeps the parsed current objects in step with a written revision, without reading them back. */
  function remember(pending: PendingRevision): void {
    const { revision } = pending;
    if (cached !== undefined && cached.revision === revision - 1) {
      for (const c of pending.changes) {
        if (c.action === "deleted" || c.body === null) cached.byKey.delete(c.key);
        else {
          const object = pending.objects?.get(c.key) ?? (JSON.parse(c.body) as ModelObject);
          cached.byKey.set(c.key, { key: c.key, object, revision, source: c.source, body: c.body });
        }
      }
      cached.revision = revision;
    } else cached = undefined;
  }

  /** Plan, judge and number a change at the current revision; the caller holds the write transaction. */
  function prepare(change: ChangeSet, commitOptions: CommitOptions, reuse: { revision: number; plan: Plan } | undefined): PendingRevision | undefined {
    // Read inside the transaction: a plan made before another writer's commit is planned again.
    const made = reuse !== undefined && reuse.revision === currentRevision() ? reuse.plan : plan(change);
    const { changes, objects } = made;
    if (commitOptions.accept !== undefined && !commitOptions.accept(previewOf(made))) return undefined;
    if (changes.length === 0) return undefined;
    const revision = currentRevision() + 1;
    const { rollout } = commitOptions;
    if (rollout !== undefined && rollout.id !== revision) {
      throw new StoreError(StoreErrorCode.Conflict, `the rollout is for revision ${rollout.id}, but this change would be revision ${revision} (another change was stored meanwhile): apply it again`);
    }
    return {
      ...(rollout === undefined ? {} : { rollout }),
      revision,
      createdAt: new Date().toISOString(),
      source: change.source,
      summary: change.summary ?? summarize(changes),
      changes: changes.map((c) => ({ key: c.key, action: c.action, body: c.body ?? null, source: change.objectSources?.[c.key] ?? change.source })),
      objects,
    };
  }

  /** What was just written, without reading 20,000 rows back (toInfo's query gives the same: the changes are sorted by key). */
  const infoOf = (p: PendingRevision): RevisionInfo => ({ revision: p.revision, createdAt: p.createdAt, source: p.source, summary: p.summary, changes: p.changes.map(({ key, action }) => ({ key, action })) });

  function purgeRows(before: number): PurgeResult {
    const current = currentRevision();
    if (!Number.isInteger(before) || before < 1 || before > current) {
      throw new StoreError(StoreErrorCode.InvalidArgument, `purge needs a revision from 1 to ${current} (the latest) to keep history from, got ${before}`);
    }
    db.exec("BEGIN IMMEDIATE");
    let revisions = 0;
    let versions = 0;
    try {
      versions = Number(q.purgeVersions.run({ before }).changes);
      q.keepVersions.run({ before });
      revisions = Number(q.purgeRevisions.run({ before }).changes);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
    return { revisions, versions, oldest: oldestRevision() };
  }

  function inTransaction<T>(fn: () => T): T {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }

  const mirror: StoreMirror = {
    prepare(change, commitOptions = {}) {
      const reuse = planned?.change === change ? planned : undefined;
      planned = undefined;
      return prepare(change, commitOptions, reuse);
    },
    apply(pending) {
      inTransaction(() => writeRevision(pending));
      remember(pending);
      return infoOf(pending);
    },
    purge: purgeRows,
    replaceAll(dump) {
      inTransaction(() => {
        db.exec("DELETE FROM object_versions; DELETE FROM objects; DELETE FROM revisions; DELETE FROM rollouts");
        for (const r of dump.revisions) q.insertRevision.run(r.revision, r.createdAt, r.source, r.summary);
        for (const v of dump.versions) q.insertVersion.run(v.revision, v.key, v.action, seal(v.body));
        for (const o of dump.objects) q.upsert.run(o.key, seal(o.body) ?? "", o.revision, o.source);
        for (const r of dump.rollouts) q.saveRollout.run(r.id, r.body);
      });
      cached = undefined;
      planned = undefined;
    },
    setRollouts(rollouts) {
      inTransaction(() => {
        db.exec("DELETE FROM rollouts");
        for (const r of rollouts) q.saveRollout.run(r.id, r.body);
      });
    },
  };

  const store: ObjectStore = {
    currentRevision,
    list: () => [...currentObjects().values()].map(({ body: _, ...stored }) => stored),
    get,
    objectsAt(revision) {
      if (!Number.isInteger(revision) || revision < 0 || revision > currentRevision()) {
        throw new StoreError(StoreErrorCode.NotFound, `revision ${revision} does not exist (latest is ${currentRevision()})`);
      }
      if (revision > 0 && revision < oldestRevision()) throw purgedError(revision, oldestRevision());
      return q.at.all(revision).map((row) => parse(row, `at most ${revision}`));
    },
    history(opts = {}) {
      return q.history.all(opts.limit ?? 100).map(toInfo);
    },
    revision(revision) {
      if (revision > 0 && revision < oldestRevision()) throw purgedError(revision, oldestRevision());
      const row = q.revision.get(revision);
      return row === undefined ? undefined : toInfo(row);
    },
    oldestRevision,
    // Async on the interface for PostgreSQL; here the work is done before the promise is returned.
    async purge({ before }) {
      const result = purgeRows(before);
      // Deleted rows stay in free pages and in the WAL until rewritten: VACUUM rewrites the file,
      // and the TRUNCATE checkpoint empties the WAL, so purged keys are gone from disk.
      db.exec("VACUUM");
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return result;
    },
    preview(change) {
      return previewOf(plan(change));
    },
    async previewSliced(change) {
      const revision = currentRevision();
      const made = await runSliced(planSteps(change));
      // Kept only when no write came in between: then it is exactly what commit would plan.
      planned = currentRevision() === revision ? { change, revision, plan: made } : undefined;
      return previewOf(made);
    },
    async commit(change, commitOptions = {}) {
      const reuse = planned?.change === change ? planned : undefined;
      planned = undefined;
      const maxPages = options.maxPageCount?.();
      if (maxPages !== undefined) db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(maxPages))}`);
      db.exec("BEGIN IMMEDIATE");
      try {
        const pending = prepare(change, commitOptions, reuse);
        if (pending === undefined) {
          db.exec("ROLLBACK");
          return { changed: false, revision: undefined };
        }
        writeRevision(pending);
        db.exec("COMMIT");
        remember(pending);
        writeState(pending.revision);
        return { changed: true, revision: infoOf(pending) };
      } catch (error) {
        // SQLite rolls a transaction back by itself on SQLITE_FULL; a second ROLLBACK would
        // replace the real cause with "cannot rollback - no transaction is active" (issue 14).
        if (db.isTransaction) db.exec("ROLLBACK");
        if (sqliteResultCode(error) === SQLITE_FULL) {
          throw new StoreError(
            StoreErrorCode.DiskFull,
            `disk full: the store ${file} cannot grow (SQLITE_FULL), nothing was changed; free space on its disk and send the change again`,
          );
        }
        throw error;
      }
    },
    async saveRollout(record) {
      q.saveRollout.run(record.id, record.body);
    },
    rollouts(opts = {}) {
      return (q.rollouts.all(opts.limit ?? -1) as { id: number; body: string }[]).map((r) => ({ id: Number(r.id), body: String(r.body) }));
    },
    health: () => ({ kind: "sqlite", location: file, state: "ok" }),
    // One process per SQLite file (data-dir-lock.ts): nobody else writes it.
    onExternalChange: () => () => {},
    async close() {
      db.close();
    },
  };
  return { store, mirror };
}

interface Plan {
  readonly changes: (RevisionChange & { body?: string })[];
  readonly objects: Map<string, ModelObject>;
}

function previewOf(plan: Plan): ChangePreview {
  return { objects: [...plan.objects.values()], changes: plan.changes.map(({ key, action }) => ({ key, action })) };
}

function purgedError(revision: number, oldest: number): StoreError {
  return new StoreError(StoreErrorCode.Purged, `revision ${revision} was purged from history (the oldest kept is ${oldest}); it can no longer be shown or rolled back to`);
}
