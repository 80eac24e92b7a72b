import { packageVersion } from "../admin/package-version.ts";
import { AdminApiError, type AdminClient } from "./admin-client.ts";
import type { CliIo } from "./cli-io.ts";

/** `tcp version`: the CLI's version, and the server's with its store revision when it answers. */
export async function versionCommand(client: AdminClient, io: CliIo, options: { server: string; output?: string }): Promise<number> {
  let server: { version: string; revision: number } | undefined;
  let unreachable: string | undefined;
  try {
    server = await client.request<{ version: string; revision: number }>("GET", "/api/v1/version");
  } catch (error) {
    if (!(error instanceof AdminApiError)) throw error;
    unreachable = error.status === 404 ? `${options.server} has no version endpoint (an older control plane)` : error.message;
  }
  if (options.output === "json") {
    io.out(`${JSON.stringify({ client: { version: packageVersion }, ...(server !== undefined ? { server } : {}) }, null, 2)}\n`);
  } else {
    io.out(`client: ${packageVersion}\n`);
    if (server !== undefined) io.out(`server: ${server.version} at ${options.server} (store revision ${server.revision})\n`);
  }
  if (unreachable !== undefined) io.err(`server: ${unreachable}\n`);
  return 0;
}
