import { chmodSync, renameSync, writeFileSync } from "node:fs";

/**
 * Replaces FILE with CONTENT, readable and writable by its owner only (0600), through a temporary
 * file and a rename, so a crash or a full disk leaves the old content or the new, never half.
 * Used for everything of the data directory that is not SQLite's: the state marker, the token
 * hashes, the first admin token.
 */
export function writePrivateFile(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  // The mode above applies only when the file is created: a .tmp left by a crash keeps its own.
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
