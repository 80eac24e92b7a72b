import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkStoreDb, storeCounts, storeTables } from "./check-store-db.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { moveAside, storeFileName } from "./open-serve-store.ts";
import { StoreError, StoreErrorCode } from "./store-error.ts";
import { storeStateFileName, writeStoreState } from "./store-state-marker.ts";

/** What a backup holds. */
export interface BackupSummary {
  readonly file: string;
  readonly revision: number;
  readonly objects: number;
}

/**
 * Copies the data directory's store to `to`, consistently, while a control plane may be running.
 *
 * `VACUUM INTO` reads the whole database inside one read transaction: WAL mode gives this reader a
 * fixed snapshot while the control plane keeps committing, so the copy is one revision, never half
 * of one, and the writer is never blocked. It works the same on a stopped control plane, and
 * reading the data directory directly (rather than through the admin API) keeps the full store,
 * history included, off the network. The copy is checked like a store at start before it is
 * reported good.
 */
export function backupStore(options: { dataDir: string; to: string }): BackupSummary {
  const source = join(options.dataDir, storeFileName);
  const to = resolve(options.to);
  if (!existsSync(source) || statSync(source).size === 0) {
    throw new StoreError(StoreErrorCode.NotFound, `there is no store to back up: ${source} ${existsSync(source) ? "is empty (0 bytes)" : "does not exist"}; check --data-dir`);
  }
  if (existsSync(to)) throw new StoreError(StoreErrorCode.InvalidArgument, `${to} already exists: choose another file, or remove it first`);
  const db = new DatabaseSync(source);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    checkStoreDb(db, source);
    if (storeTables(db).present.length === 0) throw new StoreError(StoreErrorCode.NotFound, `there is no store to back up: ${source} has no tables`);
    mkdirSync(dirname(to), { recursive: true });
    db.prepare("VACUUM INTO ?").run(to);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(StoreErrorCode.Corrupt, `cannot back up ${source}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    db.close();
  }
  return { file: to, ...verifyBackup(to) };
}

/** Opens a backup read-only and checks it as a store is checked at start; its counts, or a StoreError naming it. */
export function verifyBackup(file: string): { revision: number; objects: number } {
  if (!existsSync(file)) throw new StoreError(StoreErrorCode.NotFound, `the backup ${file} does not exist`);
  if (statSync(file).size === 0) throw new StoreError(StoreErrorCode.Corrupt, `the backup ${file} is empty (0 bytes): it is not a backup of a store`);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly: true });
  } catch (error) {
    throw new StoreError(StoreErrorCode.Corrupt, `the backup ${file} cannot be opened: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    checkStoreDb(db, file);
    if (storeTables(db).present.length === 0) throw new StoreError(StoreErrorCode.Corrupt, `the backup ${file} holds no store tables: it is not a backup made by \`tcp backup\``);
    return storeCounts(db);
  } finally {
    db.close();
  }
}

/**
 * Replaces a stopped control plane's store with a checked backup. It takes the data directory's
 * lock, so it refuses while a control plane runs on it (naming that process); the current database
 * and its WAL are moved aside, never deleted; the state marker is rewritten so the next start
 * accepts the restored revision.
 */
export function restoreStore(options: { dataDir: string; from: string }): BackupSummary & { previous: string | undefined } {
  const from = resolve(options.from);
  const counts = verifyBackup(from);
  const lock = lockDataDir(options.dataDir);
  try {
    const file = join(options.dataDir, storeFileName);
    const tmp = `${file}.restoring`;
    rmSync(tmp, { force: true });
    copyFileSync(from, tmp);
    const fd = openSync(tmp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const previous = existsSync(file) ? moveAside(file, "before-restore") : undefined;
    renameSync(tmp, file);
    writeStoreState(join(options.dataDir, storeStateFileName), counts);
    return { file, ...counts, previous };
  } finally {
    lock.release();
  }
}
