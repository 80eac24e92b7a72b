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
  if (oneShot === undefined) return crypto.createHash("sha256").update(data).digest().toString("hex", 0, 8);
  // The digest as a 32-character latin1 ("binary") string, not a Buffer: "buffer" is
  // not an encoding Node's fast path knows (two lower-casings per call), and
  // each Buffer digest allocates its own ArrayBuffer. With the hex digits
  // made by hand, 40,000 versions take ~30 ms instead of ~65-80 ms, and
  // fromCharCode builds the flat 16-character string directly.
  const d = oneShot("sha256", data, "binary");
  return String.fromCharCode(
    hexDigit(d, 0, 4), hexDigit(d, 0, 0), hexDigit(d, 1, 4), hexDigit(d, 1, 0),
    hexDigit(d, 2, 4), hexDigit(d, 2, 0), hexDigit(d, 3, 4), hexDigit(d, 3, 0),
    hexDigit(d, 4, 4), hexDigit(d, 4, 0), hexDigit(d, 5, 4), hexDigit(d, 5, 0),
    hexDigit(d, 6, 4), hexDigit(d, 6, 0), hexDigit(d, 7, 4), hexDigit(d, 7, 0),
  );
}

/** Character codes of the 16 lower-case hex digits. */
const hexCodes = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/** The code of the hex digit of byte `i` of a latin1 digest: its high nibble (shift 4) or its low one (shift 0). */
const hexDigit = (digest: string, i: number, shift: 4 | 0): number => hexCodes[(digest.charCodeAt(i) >> shift) & 15] as number;

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
