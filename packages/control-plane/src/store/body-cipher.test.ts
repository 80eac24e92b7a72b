import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { StartupError } from "../startup/startup-error.ts";
import { createBodyCipher, readStoreKeyFile } from "./body-cipher.ts";
import { openObjectStore } from "./object-store.ts";
import { openServeStore } from "./open-serve-store.ts";
import { StoreError } from "./store-error.ts";

const dir = mkdtempSync(join(tmpdir(), "cp-cipher-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keyLines = key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
const note = (name: string, value: string): ModelObject => ({ apiVersion: "v1", kind: "Note", metadata: { name }, spec: { key: value } });
const bytesOf = (file: string) => ["", "-wal"].map((s) => { try { return readFileSync(file + s).toString("latin1"); } catch { return ""; } }).join("");

describe("encryption at rest (--store-key-file)", () => {
  it("stores bodies sealed with AES-256-GCM: the key is not in the file, and reads back with the same store key", async () => {
    const file = join(dir, "a", "control-plane.db");
    const kek = randomBytes(32);
    // A plain body from before encryption was turned on stays readable.
    const plain = openObjectStore({ file });
    await plain.commit({ upserts: [note("old", "plain")], source: "api" });
    plain.close();
    const store = openObjectStore({ file, cipher: createBodyCipher(kek) });
    await store.commit({ upserts: [note("tls", key)], source: "api" });
    await store.commit({ upserts: [note("tls", `${key} `)], source: "api" });
    assert.equal(store.get("Note/tls")?.object.spec["key"], `${key} `);
    assert.deepEqual(store.objectsAt(2).map((o) => o.metadata.name), ["old", "tls"]);
    store.close();
    for (const line of keyLines) assert.ok(!bytesOf(file).includes(line), `not in the file: ${line}`);

    const again = openObjectStore({ file, cipher: createBodyCipher(kek) });
    assert.deepEqual(again.list().map((s) => [s.key, s.object.spec["key"]]), [["Note/old", "plain"], ["Note/tls", `${key} `]]);
    assert.equal((await again.commit({ upserts: [note("tls", `${key} `)], source: "api" })).changed, false, "equal content is still unchanged, whatever the nonce");
    again.close();

    const withoutKey = openObjectStore({ file });
    assert.throws(() => withoutKey.list(), (e: unknown) => e instanceof StoreError && /holds encrypted objects: start with the key/.test(e.message));
    withoutKey.close();
    const otherKey = openObjectStore({ file, cipher: createBodyCipher(randomBytes(32)) });
    assert.throws(() => otherKey.list(), (e: unknown) => e instanceof StoreError && /does not decrypt with this store key/.test(e.message));
    otherKey.close();
    // serve refuses to start rather than moving the file aside, even with --allow-empty-store.
    assert.throws(() => openServeStore({ dataDir: join(dir, "a"), allowEmptyStore: true }), (e: unknown) => e instanceof StartupError && e.code === "store_key");
    assert.ok(bytesOf(file).length > 0, "the file is still there");
  });

  it("reads the key file as 64 hex digits or base64, and names the fix for anything else", async () => {
    const kek = randomBytes(32);
    const hex = join(dir, "hex.key");
    writeFileSync(hex, `${kek.toString("hex")}\n`);
    assert.deepEqual(readStoreKeyFile(hex), kek);
    const b64 = join(dir, "b64.key");
    writeFileSync(b64, kek.toString("base64"));
    assert.deepEqual(readStoreKeyFile(b64), kek);
    const short = join(dir, "short.key");
    writeFileSync(short, "abcd");
    assert.throws(() => readStoreKeyFile(short), /must hold 32 bytes as 64 hex digits or base64; make one with `openssl rand -hex 32 > /);
    assert.throws(() => readStoreKeyFile(join(dir, "missing.key")), /cannot be read \(ENOENT\)/);
  });
});
