import { readFileSync } from "node:fs";
import { writePrivateFile } from "./write-private-file.ts";

/** What the last run left in the store, written next to the database after each commit (issue 14). */
export interface StoreState {
  readonly revision: number;
  readonly objects: number;
  readonly writtenAt: string;
}

/** The marker's result: absent (no run ever committed here), readable, or present but unreadable. */
export type StoreStateRead = { readonly found: false } | { readonly found: true; readonly state: StoreState | undefined };

/** `<dataDir>/store-state.json` beside `<dataDir>/control-plane.db`. */
export const storeStateFileName = "store-state.json";

export function readStoreState(file: string): StoreStateRead {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { found: false };
    return { found: true, state: undefined };
  }
  try {
    const v = JSON.parse(text) as Partial<StoreState>;
    if (typeof v.revision !== "number" || typeof v.objects !== "number") return { found: true, state: undefined };
    return { found: true, state: { revision: v.revision, objects: v.objects, writtenAt: typeof v.writtenAt === "string" ? v.writtenAt : "an unknown time" } };
  } catch {
    return { found: true, state: undefined };
  }
}

/**
 * Replaces the marker atomically: a temporary file, then rename, so a crash or a full disk leaves
 * the old marker or the new one. No fsync (it cost about 4 ms per commit, forty times the commit
 * itself): after a power loss the marker may be older or unreadable, and an unreadable marker
 * counts as "the last run had objects" (previousRunHadObjects), so a lost store is never missed;
 * at worst an empty store on purpose then needs --allow-empty-store once.
 */
export function writeStoreState(file: string, state: Omit<StoreState, "writtenAt">): void {
  writePrivateFile(file, `${JSON.stringify({ ...state, writtenAt: new Date().toISOString() })}\n`);
}

/** True when the marker says the last run had objects, or cannot be read (so it may have had). */
export function previousRunHadObjects(read: StoreStateRead): boolean {
  return read.found && (read.state === undefined || read.state.objects > 0);
}

/** "revision 7 with 3 objects (recorded 2026-...)" or why the marker could not be read. */
export function describeStoreState(read: StoreStateRead): string {
  if (!read.found) return "no previous run";
  if (read.state === undefined) return "a previous run whose record cannot be read";
  return `revision ${read.state.revision} with ${objectCount(read.state.objects)} (recorded ${read.state.writtenAt})`;
}

/** "1 object", "3 objects". */
export const objectCount = (n: number): string => `${n} object${n === 1 ? "" : "s"}`;
