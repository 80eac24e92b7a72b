import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { contentHash } from "./content-hash.ts";

/** The definition: SHA-256 over each part followed by a zero byte, first 16 hex digits. */
function reference(...parts: readonly (Uint8Array | string)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 16);
}

test("contentHash is the documented digest, for strings, bytes and both mixed", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  const cases: Array<readonly (Uint8Array | string)[]> = [
    [],
    [""],
    ["a"],
    ["type.googleapis.com/envoy.config.cluster.v3.Cluster", bytes],
    ["ünïcødé ✓", "b\u0001c"],
    [bytes, "x", new Uint8Array(0), "y"],
  ];
  for (const parts of cases) assert.equal(contentHash(...parts), reference(...parts), JSON.stringify(parts.map(String)));
});

test("parts are separated: moving a boundary changes the hash", () => {
  assert.notEqual(contentHash("ab", "c"), contentHash("a", "bc"));
  assert.notEqual(contentHash("a", new Uint8Array([98])), contentHash("ab"));
  assert.equal(contentHash("a", new Uint8Array([98])), contentHash("a", "b"), "the same bytes, whether given as a string or as bytes");
});

test("inputs of any size give the documented digest, one after another (the reused input buffer never leaks a previous input)", () => {
  // 10 bytes, then past the initial 4 KiB buffer, then past the 64 KiB reuse
  // limit (an input of its own), then small again.
  const sizes = [10, 5000, 70_000, 3, 65_535];
  for (const size of sizes) {
    const bytes = new Uint8Array(size).map((_, i) => (i * 7 + size) & 255);
    assert.equal(contentHash("t", bytes), reference("t", bytes), `${size} bytes`);
    assert.equal(contentHash(bytes), reference(bytes), `${size} bytes alone`);
  }
  assert.match(contentHash("a"), /^[0-9a-f]{16}$/);
});
