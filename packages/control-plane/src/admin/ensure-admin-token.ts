import { join } from "node:path";
import { writePrivateFile } from "../store/write-private-file.ts";
import type { TokenStore } from "./token-store.ts";

/** The file, in the data directory, holding the first admin token for the CLI on this machine. */
export const adminTokenFile = "admin-token";

/**
 * Zero-config token mode: when no token has role admin (first start), one named `admin`
 * is created and its value written to <dataDir>/admin-token, readable by its owner only,
 * where the CLI on this machine finds it. Returns the file when it wrote one.
 */
export function ensureAdminToken(tokens: TokenStore, options: { readonly dataDir: string }): string | undefined {
  if (tokens.list().some((t) => t.role === "admin")) return undefined;
  const taken = new Set(tokens.list().map((t) => t.name));
  let name = "admin";
  for (let i = 2; taken.has(name); i++) name = `admin-${i}`;
  const { token } = tokens.create({ name, role: "admin" });
  const file = join(options.dataDir, adminTokenFile);
  writePrivateFile(file, `${token}\n`);
  return file;
}
