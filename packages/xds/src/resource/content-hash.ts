import { createHash } from "node:crypto";

/**
 * A short, stable version derived from bytes: the first 16 hex digits of SHA-256.
 * Versions are content hashes so that the same configuration always carries the
 * same version, across restarts and replicas.
 */
export function contentHash(...parts: readonly (Uint8Array | string)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(p);
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}
