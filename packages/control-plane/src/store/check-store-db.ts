import type { DatabaseSync } from "node:sqlite";
import { StoreError, StoreErrorCode } from "./store-error.ts";

/** The schema this code writes (PRAGMA user_version); 0 is the first schema, from before the version was recorded. */
export const storeSchemaVersion = 1;

const tables = ["revisions", "object_versions", "objects"] as const;

/** SQLite's primary result code of a node:sqlite error (13 is SQLITE_FULL), or undefined for other errors. */
export function sqliteResultCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" ? code & 0xff : undefined;
}

/** Which of the store's tables exist: none (a new or emptied file), all, or some (damage). */
export function storeTables(db: DatabaseSync): { present: string[]; missing: string[] } {
  const names = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => String(r["name"])));
  return { present: tables.filter((t) => names.has(t)), missing: tables.filter((t) => !names.has(t)) };
}

/**
 * Checks a store database before it is used (issue 14): SQLite's own `quick_check`, the schema
 * version, all tables present, and every stored body is JSON. A damaged file must stop the
 * control plane with a message naming the file and the object, not with "Unexpected end of
 * JSON input" at the first read, or worse, serve a partial configuration.
 * `json_valid` runs inside SQLite, so checking every historical version costs no JS parsing.
 */
export function checkStoreDb(db: DatabaseSync, file: string): void {
  const corrupt = (what: string) => new StoreError(StoreErrorCode.Corrupt, `the store ${file} is damaged: ${what}`);
  let problems: string[];
  try {
    problems = db
      .prepare("PRAGMA quick_check(5)")
      .all()
      .map((r) => String(Object.values(r)[0]));
  } catch (error) {
    throw corrupt(`SQLite cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
  if (problems.length !== 1 || problems[0] !== "ok") throw corrupt(`SQLite's quick_check found: ${problems.join("; ")}`);
  const version = Number((db.prepare("PRAGMA user_version").get() as Record<string, unknown>)["user_version"]);
  if (version > storeSchemaVersion) {
    throw new StoreError(
      StoreErrorCode.UnsupportedSchema,
      `the store ${file} has schema version ${version}, written by a newer control plane (this one reads up to ${storeSchemaVersion}): run that version, or restore a backup made by this one`,
    );
  }
  const { present, missing } = storeTables(db);
  if (present.length === 0) return;
  if (missing.length > 0) throw corrupt(`the table${missing.length === 1 ? "" : "s"} ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing`);
  const bad = db.prepare("SELECT key, revision FROM objects WHERE NOT json_valid(body) ORDER BY key LIMIT 1").get();
  if (bad !== undefined) throw corrupt(`the stored body of ${String(bad["key"])} (revision ${Number(bad["revision"])}) is not valid JSON`);
  const badVersion = db
    .prepare("SELECT key, revision FROM object_versions WHERE body IS NOT NULL AND NOT json_valid(body) ORDER BY revision, key LIMIT 1")
    .get();
  if (badVersion !== undefined) {
    throw corrupt(`the history body of ${String(badVersion["key"])} at revision ${Number(badVersion["revision"])} is not valid JSON`);
  }
}

/** Counts of a checked store, for backup, restore and the state marker. */
export function storeCounts(db: DatabaseSync): { revision: number; objects: number } {
  if (storeTables(db).present.length === 0) return { revision: 0, objects: 0 };
  const revision = Number((db.prepare("SELECT COALESCE(MAX(revision), 0) AS r FROM revisions").get() as Record<string, unknown>)["r"]);
  const objects = Number((db.prepare("SELECT COUNT(*) AS n FROM objects").get() as Record<string, unknown>)["n"]);
  return { revision, objects };
}
