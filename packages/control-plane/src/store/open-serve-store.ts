import { existsSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BodyCipher } from "./body-cipher.ts";
import { type ObjectStore, openObjectStore } from "./object-store.ts";
import { StoreError } from "./store-error.ts";
import { describeStoreState, previousRunHadObjects, readStoreState, storeStateFileName, writeStoreState } from "./store-state-marker.ts";
import { StartupError, StartupErrorCode } from "../startup/startup-error.ts";

export interface OpenServeStoreOptions {
  readonly dataDir: string;
  /** Start with an empty configuration even though the last run had one (`serve --allow-empty-store`). */
  readonly allowEmptyStore?: boolean;
  readonly log?: (line: string) => void;
  /** Encrypts object bodies at rest (`serve --store-key-file`, body-cipher.ts). */
  readonly cipher?: BodyCipher;
}

/** `<dataDir>/control-plane.db`, the embedded store's file. */
export const storeFileName = "control-plane.db";

/**
 * Opens the data directory's store for `serve`, refusing to replace the last good configuration
 * by nothing (issue 14). An empty, missing or emptied database while the state marker says the
 * last run had objects means the file was lost (truncated, deleted, a fresh volume): serving it
 * would push an empty configuration to every proxy, so it takes --allow-empty-store. A damaged
 * database is refused too; with the flag it is moved aside (kept, never deleted) and an empty
 * store starts in its place.
 */
export function openServeStore(options: OpenServeStoreOptions): ObjectStore {
  const file = join(options.dataDir, storeFileName);
  const stateFile = join(options.dataDir, storeStateFileName);
  const log = options.log ?? (() => {});
  const marker = readStoreState(stateFile);
  const recover = `restore a backup with \`tcp restore BACKUP --data-dir ${options.dataDir}\` (see docs/cli/restore.md), or start with an empty configuration on purpose with \`serve --allow-empty-store\``;

  // Before opening: opening creates the file and its tables.
  const found = describeFile(file);
  let store: ObjectStore;
  try {
    store = openObjectStore({ file, stateFile, ...(options.cipher !== undefined ? { cipher: options.cipher } : {}) });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (options.allowEmptyStore !== true) throw new StartupError(StartupErrorCode.StoreCorrupt, `${error.message}. To recover: ${recover} (which moves the damaged file aside, never deletes it)`);
    const aside = moveAside(file, "damaged");
    log(`--allow-empty-store: ${error.message}; moved it to ${aside} and started an empty store`);
    store = openObjectStore({ file, stateFile, ...(options.cipher !== undefined ? { cipher: options.cipher } : {}) });
  }

  let objects: number;
  try {
    objects = store.list().length;
  } catch (error) {
    store.close();
    // Encrypted bodies without the key, or with another one: refused, and never moved aside.
    if (error instanceof StoreError && error.code === "store_key") throw new StartupError(StartupErrorCode.StoreKey, error.message);
    if (error instanceof StoreError) throw new StartupError(StartupErrorCode.StoreCorrupt, `${error.message}. To recover: ${recover}`);
    throw error;
  }
  if (objects === 0 && previousRunHadObjects(marker)) {
    if (options.allowEmptyStore !== true) {
      store.close();
      throw new StartupError(
        StartupErrorCode.StoreLost,
        `the store ${file} ${found}, but ${stateFile} records ${describeStoreState(marker)} from the last run: refusing to replace that configuration by an empty one. To recover: ${recover}`,
      );
    }
    log(`--allow-empty-store: the store ${file} is empty although the last run had ${describeStoreState(marker)}; starting with an empty configuration`);
  }
  // Brings the marker up to date at once: a store from before the marker existed, or one started empty on purpose.
  writeStoreState(stateFile, { revision: store.currentRevision(), objects });
  return store;
}

function describeFile(file: string): string {
  if (!existsSync(file)) return "did not exist";
  const size = statSync(file).size;
  return size === 0 ? "was empty (0 bytes)" : `holds no objects (${size} bytes, no revision with objects)`;
}

/** Renames the database and its WAL files together (a WAL belongs to its own database only). */
export function moveAside(file: string, why: string): string {
  const aside = `${file}.${why}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  return aside;
}
