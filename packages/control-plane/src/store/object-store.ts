import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ModelObject } from "../model/model-object.ts";
import { canonicalJson } from "./canonical-json.ts";
import { StoreError, StoreErrorCode } from "./store-error.ts";

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
  /** False when the change set equals what is stored: no revision was created. */
  readonly changed: boolean;
  readonly revision: RevisionInfo | undefined;
}

export interface ObjectStore {
  /** The newest revision number (0 for an empty store). */
  currentRevision(): number;
  list(): StoredObject[];
  get(key: string): StoredObject | undefined;
  /** The full object set as it was right after revision `revision`. */
  objectsAt(revision: number): ModelObject[];
  history(options?: { limit?: number }): RevisionInfo[];
  revision(revision: number): RevisionInfo | undefined;
  /** What the change would do, without writing (same checks as commit, including conflicts). */
  preview(change: ChangeSet): { objects: ModelObject[]; changes: RevisionChange[] };
  commit(change: ChangeSet): CommitResult;
  close(): void;
}

const objectKey = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`;

/**
 * The embedded store on node:sqlite. Every accepted change is one revision; the
 * object versions table keeps each object's body per revision, so the full set of
 * any revision can be rebuilt (history, rollback) without storing copies.
 */
export function openObjectStore(options: { file: string }): ObjectStore {
  if (options.file !== ":memory:") mkdirSync(dirname(options.file), { recursive: true });
  const db = new DatabaseSync(options.file);
  // WAL keeps readers off the writer's back and survives a kill -9 between commits.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
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
  `);

  const q = {
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
    changesOf: db.prepare("SELECT key, action FROM object_versions WHERE revision = ? ORDER BY key"),
    insertRevision: db.prepare("INSERT INTO revisions (revision, created_at, source, summary) VALUES (?, ?, ?, ?)"),
    insertVersion: db.prepare("INSERT INTO object_versions (revision, key, action, body) VALUES (?, ?, ?, ?)"),
    upsert: db.prepare(
      "INSERT INTO objects (key, body, revision, source) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET body = excluded.body, revision = excluded.revision, source = excluded.source",
    ),
    delete: db.prepare("DELETE FROM objects WHERE key = ?"),
  };

  const currentRevision = (): number => Number((q.current.get() as { r: number }).r);
  const toStored = (row: Record<string, unknown>): StoredObject => ({
    key: String(row["key"]),
    object: JSON.parse(String(row["body"])) as ModelObject,
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
      for (const row of q.list.all()) byKey.set(String(row["key"]), { ...toStored(row), body: String(row["body"]) });
      cached = { revision, byKey };
    }
    return cached.byKey;
  }

  /** Resolves a change set against the stored objects: the effective changes, after conflict checks. */
  function plan(change: ChangeSet): { changes: (RevisionChange & { body?: string })[]; objects: Map<string, ModelObject> } {
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

  function summarize(changes: readonly RevisionChange[]): string {
    const parts = changes.slice(0, 5).map((c) => `${c.action} ${c.key}`);
    if (changes.length > 5) parts.push(`and ${changes.length - 5} more`);
    return parts.join(", ");
  }

  return {
    currentRevision,
    list: () => [...currentObjects().values()].map(({ body: _, ...stored }) => stored),
    get,
    objectsAt(revision) {
      if (!Number.isInteger(revision) || revision < 0 || revision > currentRevision()) {
        throw new StoreError(StoreErrorCode.NotFound, `revision ${revision} does not exist (latest is ${currentRevision()})`);
      }
      return q.at.all(revision).map((row) => JSON.parse(String(row["body"])) as ModelObject);
    },
    history(opts = {}) {
      return q.history.all(opts.limit ?? 100).map(toInfo);
    },
    revision(revision) {
      const row = q.revision.get(revision);
      return row === undefined ? undefined : toInfo(row);
    },
    preview(change) {
      const { changes, objects } = plan(change);
      return { objects: [...objects.values()], changes: changes.map(({ key, action }) => ({ key, action })) };
    },
    commit(change) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const { changes, objects } = plan(change);
        if (changes.length === 0) {
          db.exec("COMMIT");
          return { changed: false, revision: undefined };
        }
        const revision = currentRevision() + 1;
        const summary = change.summary ?? summarize(changes);
        q.insertRevision.run(revision, new Date().toISOString(), change.source, summary);
        for (const c of changes) {
          q.insertVersion.run(revision, c.key, c.action, c.body ?? null);
          if (c.action === "deleted") q.delete.run(c.key);
          else q.upsert.run(c.key, c.body ?? "", revision, change.objectSources?.[c.key] ?? change.source);
        }
        db.exec("COMMIT");
        if (cached !== undefined && cached.revision === revision - 1) {
          for (const c of changes) {
            if (c.action === "deleted") cached.byKey.delete(c.key);
            else {
              const object = objects.get(c.key) as ModelObject;
              cached.byKey.set(c.key, { key: c.key, object, revision, source: change.objectSources?.[c.key] ?? change.source, body: c.body ?? "" });
            }
          }
          cached.revision = revision;
        } else cached = undefined;
        return { changed: true, revision: toInfo(q.revision.get(revision) ?? {}) };
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    close: () => db.close(),
  };
}
