import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { StartupError, StartupErrorCode } from "../startup/startup-error.ts";

export interface DataDirLock {
  /** The lock file, `<dataDir>/control-plane.lock`. */
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * Takes the data directory for this process, or throws a StartupError naming the process that has it.
 *
 * Why a lock file rather than SQLite's `locking_mode = EXCLUSIVE`: an exclusive SQLite lock is only
 * taken at the first read or write and its failure says "database is locked" after busy_timeout,
 * naming nobody; the lock file is created with O_EXCL (atomic, one winner), holds the owner's pid,
 * host and start time, so the refusal names the other process, and it also covers the directory's
 * other content. A lock left behind by a killed process (kill -9, power loss) is detected as stale
 * when its pid is not running on this host (or is our own pid: a restarted container is often pid 1
 * again) and is replaced. A lock written on another host cannot be checked and is never taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  // Owner-only: the directory holds the store (keys included) and the admin tokens (issue 13).
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "control-plane.lock");
  const held = heldHere.get(file);
  // Our own pid in a lock we did not take is a stale one; in one we took, it is a second serve() in this process.
  if (held !== undefined) throw inUse(dir, file, held);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const { owner, text } = readOwner(file);
      if (owner !== undefined && !isStale(owner)) throw inUse(dir, file, owner);
      // Stale or unreadable (a crash between create and write): remove it, but only if it is still the
      // file we judged, so that of two processes replacing one stale lock, the second does not remove
      // the first one's fresh lock; then try again.
      removeIf(file, (now) => now === text);
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    let released = false;
    heldHere.set(file, me);
    const release = (): void => {
      if (released) return;
      released = true;
      heldHere.delete(file);
      process.off("exit", release);
      removeIf(file, (text) => text === content);
    };
    // A normal exit without close() (an uncaught error) must not leave a lock that looks alive.
    process.on("exit", release);
    return { file, release };
  }
  const { owner } = readOwner(file);
  throw owner !== undefined ? inUse(dir, file, owner) : new StartupError(StartupErrorCode.DataDirInUse, `cannot lock the data directory ${dir}: ${file} keeps reappearing`);
}

/** Lock files this process holds, by path. */
const heldHere = new Map<string, LockOwner>();

function readOwner(file: string): { owner?: LockOwner; text?: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid !== "number" || typeof v.host !== "string") return { text };
    return { owner: { pid: v.pid, host: v.host, startedAt: typeof v.startedAt === "string" ? v.startedAt : "an unknown time" }, text };
  } catch {
    return { text };
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to another user; it is alive.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function removeIf(file: string, test: (text: string) => boolean): void {
  try {
    if (test(readFileSync(file, "utf8"))) unlinkSync(file);
  } catch {
    // Already gone.
  }
}

function inUse(dir: string, file: string, owner: LockOwner): StartupError {
  const where =
    owner.host !== hostname() ? `process ${owner.pid} on host ${owner.host}` : owner.pid === process.pid ? `process ${owner.pid}, this one` : `process ${owner.pid}`;
  const fix =
    owner.host === hostname()
      ? `stop it, or give this one another --data-dir (env CONTROL_PLANE_DATA_DIR)`
      : `stop it, or give this one another --data-dir (env CONTROL_PLANE_DATA_DIR); if no control plane runs on ${owner.host}, delete ${file}`;
  return new StartupError(StartupErrorCode.DataDirInUse, `the data directory ${dir} is in use by another control plane (${where}, started ${owner.startedAt}): ${fix}`);
}
