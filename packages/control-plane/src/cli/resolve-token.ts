import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { adminTokenFile } from "../admin/ensure-admin-token.ts";
import { serveDefaults } from "../main.ts";
import { isLoopbackHost } from "../startup/is-loopback-host.ts";
import { type CliArgs, flag } from "./cli-args.ts";

/**
 * The bearer token the CLI sends: --token, else TCP_TOKEN, else the admin token a control
 * plane on this machine wrote to its data directory (--data-dir, CONTROL_PLANE_DATA_DIR,
 * ./.data), only when the server is on loopback: the local admin token must never travel
 * to another machine because --server named one. None when there is none (authentication off).
 */
export function resolveToken(args: CliArgs, env: Readonly<Record<string, string | undefined>>, server: string): string | undefined {
  const given = flag(args, "--token") ?? env["TCP_TOKEN"];
  if (given !== undefined && given !== "") return given;
  let host: string;
  try {
    host = new URL(server).hostname;
  } catch {
    return undefined;
  }
  if (!isLoopbackHost(host)) return undefined;
  const file = join(flag(args, "--data-dir") ?? env["CONTROL_PLANE_DATA_DIR"] ?? serveDefaults.dataDir, adminTokenFile);
  if (!existsSync(file)) return undefined;
  try {
    const text = readFileSync(file, "utf8").trim();
    return text === "" ? undefined : text;
  } catch {
    return undefined; // another user's file (mode 0600): go without, and let the server say 401
  }
}
