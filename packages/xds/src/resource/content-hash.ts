import * as crypto from "node:crypto";

// One-shot hashing (crypto.hash, Node 20.12+) over one buffer costs a third of
// an incremental Hash object per part: 20,000 resource versions took ~60 ms
// that way (issue 15). Older Node 20 releases fall back to the Hash object;
// both give the same digest.
const oneShot = typeof crypto.hash === "function" ? crypto.hash : undefined;

/**
 * The first 8 bytes of the SHA-256, as 16 hex digits. Hex-encoding only those
 * 8 bytes, rather than slicing the 64-digit hex: V8 keeps a slice of 13 or more
 * characters as a view on the whole string, so every resource version held
 * 64 digits and a view (~110 bytes) instead of 16 digits (~32 bytes): 1.5 MiB
 * of heap for a snapshot of 20,000 encoded resources (issue 15 item 5).
 */
function sha256Prefix(data: string | Buffer): string {
  const digest = oneShot ? oneShot("sha256", data, "buffer") : crypto.createHash("sha256").update(data).digest();
  return digest.toString("hex", 0, 8);
}

/**
 * A short, stable version derived from bytes: the first 16 hex digits of
 * SHA-256 over the parts, each followed by a zero byte (strings as UTF-8).
 * Versions are content hashes so that the same configuration always carries the
 * same version, across restarts and replicas.
 */
export function contentHash(...parts: readonly (Uint8Array | string)[]): string {
  let strings = true;
  for (const p of parts) if (typeof p !== "string") strings = false;
  if (strings) return sha256Prefix(parts.length === 0 ? "" : `${(parts as readonly string[]).join("\0")}\0`);
  let size = 0;
  for (const p of parts) size += (typeof p === "string" ? Buffer.byteLength(p) : p.length) + 1;
  const input = hashInput(size);
  let pos = 0;
  for (const p of parts) {
    if (typeof p === "string") pos += input.write(p, pos);
    else {
      input.set(p, pos);
      pos += p.length;
    }
    input[pos++] = 0;
  }
  return sha256Prefix(input.subarray(0, pos));
}

/** Inputs up to this size are assembled in one reused buffer; larger ones get their own, dropped after. */
const scratchMax = 64 * 1024;
let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * A buffer of at least `size` bytes to assemble a hash input in. Reused, not
 * taken from Node's Buffer pool: a pooled input sat in the same 8 KiB pool
 * slab as the `Any` encoded just before it, so every slab a snapshot's
 * resources kept alive was about half dead hash input (issue 15 item 5).
 * Hashing is synchronous, so one buffer serves every call.
 */
function hashInput(size: number): Buffer {
  if (size > scratchMax) return Buffer.allocUnsafeSlow(size);
  if (size > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.min(scratchMax, Math.max(size, scratch.length * 2)));
  return scratch;
}
