import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { StoreError, StoreErrorCode } from "./store-error.ts";

/**
 * Encryption at rest of the store's object bodies (issue 13: keys in the database file).
 * Each body is sealed on its own with AES-256-GCM under the key-encryption key (KEK): a
 * fresh 256-bit data key per value encrypts the body, and the KEK encrypts that data key,
 * both with their own random 96-bit nonce. The envelope is stored as JSON, so the store's
 * integrity check (every body is JSON) still holds:
 * `{"enc":"aes-256-gcm/v1","dk":"<nonce|tag|wrapped data key>","ct":"<nonce|tag|ciphertext>"}`.
 */
export interface BodyCipher {
  seal(plaintext: string): string;
  /** The body as written; plain bodies (stored before encryption was turned on) pass through. */
  open(stored: string): string;
}

const scheme = "aes-256-gcm/v1";
const envelopeStart = '{"enc":';

/** True for a body sealed by a BodyCipher. */
export function isSealedBody(stored: string): boolean {
  return stored.startsWith(envelopeStart);
}

function encrypt(key: Buffer, plaintext: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), ct]).toString("base64");
}

function decrypt(key: Buffer, sealed: string): Buffer {
  const bytes = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
}

/** A cipher under a 32-byte key-encryption key. */
export function createBodyCipher(kek: Buffer): BodyCipher {
  if (kek.length !== 32) throw new StoreError(StoreErrorCode.InvalidArgument, `the store key must be 32 bytes (AES-256), got ${kek.length}`);
  return {
    seal(plaintext) {
      const dataKey = randomBytes(32);
      return JSON.stringify({ enc: scheme, dk: encrypt(kek, dataKey), ct: encrypt(dataKey, Buffer.from(plaintext, "utf8")) });
    },
    open(stored) {
      if (!isSealedBody(stored)) return stored;
      try {
        const envelope = JSON.parse(stored) as { enc?: unknown; dk?: unknown; ct?: unknown };
        if (envelope.enc !== scheme || typeof envelope.dk !== "string" || typeof envelope.ct !== "string") throw new Error(`unknown envelope ${String(envelope.enc)}`);
        return decrypt(decrypt(kek, envelope.dk), envelope.ct).toString("utf8");
      } catch {
        throw new StoreError(StoreErrorCode.Key, "a stored body does not decrypt with this store key: start with the key the store was written with (--store-key-file)");
      }
    },
  };
}

/**
 * Reads a key-encryption key file: 32 bytes as 64 hex digits or as base64 (whitespace
 * ignored), e.g. made with `openssl rand -hex 32 > store.key`. Bad content is a clear
 * StoreError naming the file and how to make a good one.
 */
export function readStoreKeyFile(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, "utf8").replace(/\s+/g, "");
  } catch (error) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `the store key file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : /^[A-Za-z0-9+/]{43}=$/.test(text) ? Buffer.from(text, "base64") : undefined;
  if (key === undefined || key.length !== 32) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `the store key file ${file} must hold 32 bytes as 64 hex digits or base64; make one with \`openssl rand -hex 32 > ${file}\``);
  }
  return key;
}
