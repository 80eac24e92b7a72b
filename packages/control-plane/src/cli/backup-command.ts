import { serveDefaults, UsageError } from "../main.ts";
import { backupStore, restoreStore } from "../store/store-backup.ts";
import { StoreError } from "../store/store-error.ts";
import { objectCount } from "../store/store-state-marker.ts";
import { StartupError } from "../startup/startup-error.ts";
import type { CliIo } from "./cli-io.ts";

export interface StoreFileCommandOptions {
  readonly positionals: readonly string[];
  /** --data-dir, else env CONTROL_PLANE_DATA_DIR, else serve's default. */
  readonly dataDir: string | undefined;
}

function oneFile(command: string, positionals: readonly string[]): string {
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`${command} takes one file, e.g. tcp ${command} backup.db`);
  return file;
}

const dataDirOf = (io: CliIo, options: StoreFileCommandOptions): string => options.dataDir ?? io.env["CONTROL_PLANE_DATA_DIR"] ?? serveDefaults.dataDir;

/** Store and lock refusals print one line with their fix and exit 1. */
function refusal(io: CliIo, error: unknown): number {
  if (!(error instanceof StoreError) && !(error instanceof StartupError)) throw error;
  io.err(`error: ${error.message}\n`);
  return 1;
}

/** `tcp backup FILE`: a consistent copy of the store, also while the control plane runs. */
export function backupCommand(io: CliIo, options: StoreFileCommandOptions): number {
  const to = oneFile("backup", options.positionals);
  try {
    const b = backupStore({ dataDir: dataDirOf(io, options), to });
    io.out(`backed up revision ${b.revision} (${objectCount(b.objects)}) to ${b.file}\n`);
    return 0;
  } catch (error) {
    return refusal(io, error);
  }
}

/** `tcp restore FILE`: replaces a stopped control plane's store with a checked backup. */
export function restoreCommand(io: CliIo, options: StoreFileCommandOptions): number {
  const from = oneFile("restore", options.positionals);
  try {
    const r = restoreStore({ dataDir: dataDirOf(io, options), from });
    io.out(`restored revision ${r.revision} (${objectCount(r.objects)}) into ${r.file}${r.previous !== undefined ? `; the previous store is kept as ${r.previous}` : ""}\n`);
    return 0;
  } catch (error) {
    return refusal(io, error);
  }
}
