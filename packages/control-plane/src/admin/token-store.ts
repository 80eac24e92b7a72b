import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writePrivateFile } from "../store/write-private-file.ts";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/** What a token may do: read < write < admin (docs/admin-api.md § Authentication). */
export type Role = "read" | "write" | "admin";
export const roles: readonly Role[] = ["read", "write", "admin"];

/** Whether a token of ROLE may do what NEEDED allows: each role includes the ones before it. */
export const roleIncludes = (role: Role, needed: Role): boolean => roles.indexOf(role) >= roles.indexOf(needed);

/** The token of an `Authorization: Bearer TOKEN` value (RFC 6750 § 2.1; the scheme in any case), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/** A token as listed: never its value, which is shown once, at creation. */
export interface TokenInfo {
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
}

interface StoredToken extends TokenInfo {
  /** Hex sha256 of the token value. */
  readonly sha256: string;
}

export interface TokenStore {
  create(options: { name: string; role: Role }): { token: string; info: TokenInfo };
  list(): TokenInfo[];
  /** False when no token has that name. */
  revoke(name: string): boolean;
  /** The token a bearer value belongs to, if any. */
  verify(token: string): TokenInfo | undefined;
}

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Tokens in a JSON file of the data directory (mode 0600), stored as sha256 hashes: a
 * token is 32 random bytes, so its hash cannot be searched backwards and a slow password
 * hash (scrypt, bcrypt) would buy nothing but a slower check on every request; a leaked
 * file does not leak usable tokens. Every change rewrites the file through a rename, so a
 * crash leaves the old or the new list, never half of one.
 */
export function openTokenStore(options: { readonly file: string }): TokenStore {
  let tokens: StoredToken[] = existsSync(options.file) ? readTokens(options.file) : [];
  const save = () => writePrivateFile(options.file, `${JSON.stringify({ tokens }, null, 2)}\n`);
  const info = (t: StoredToken): TokenInfo => ({ name: t.name, role: t.role, createdAt: t.createdAt });
  return {
    create({ name, role }) {
      if (!namePattern.test(name)) throw new ApiError(ApiErrorCode.BadRequest, `a token name is 1-64 characters of [A-Za-z0-9_.-], got ${JSON.stringify(name)}`);
      if (!roles.includes(role)) throw new ApiError(ApiErrorCode.BadRequest, `role must be one of ${roles.join(", ")}, got ${JSON.stringify(role)}`);
      if (tokens.some((t) => t.name === name)) throw new ApiError(ApiErrorCode.Conflict, `a token named ${JSON.stringify(name)} exists; revoke it first or choose another name`);
      const token = `tcp_${randomBytes(32).toString("base64url")}`;
      const stored: StoredToken = { name, role, createdAt: new Date().toISOString(), sha256: sha256(token) };
      tokens = [...tokens, stored];
      save();
      return { token, info: info(stored) };
    },
    list: () => tokens.map(info),
    revoke(name) {
      const before = tokens.length;
      tokens = tokens.filter((t) => t.name !== name);
      if (tokens.length === before) return false;
      save();
      return true;
    },
    verify(token) {
      // Compared by hash: timing can tell an attacker about the hash of what they sent, never about a stored token.
      const hash = sha256(token);
      const found = tokens.find((t) => t.sha256 === hash);
      return found === undefined ? undefined : info(found);
    },
  };
}

function readTokens(file: string): StoredToken[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    parsed = error;
  }
  const list = parsed !== null && typeof parsed === "object" ? (parsed as { tokens?: unknown }).tokens : undefined;
  const valid = (t: unknown): t is StoredToken =>
    t !== null &&
    typeof t === "object" &&
    typeof (t as StoredToken).name === "string" &&
    roles.includes((t as StoredToken).role) &&
    typeof (t as StoredToken).createdAt === "string" &&
    /^[0-9a-f]{64}$/.test(String((t as StoredToken).sha256));
  if (!Array.isArray(list) || !list.every(valid)) {
    // Starting without the tokens would lock every caller out, or, worse, let a bad edit pass unnoticed.
    throw new TokenFileError(`${file} is not a token list written by this control plane: restore it from a backup, or remove it (which revokes every token; the next start writes a new admin token)`);
  }
  return list;
}

/** The token file cannot be read as a token list. */
export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
  readonly code = "token_file_invalid";
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
