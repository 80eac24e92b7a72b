import { isLoopbackHost } from "./is-loopback-host.ts";
import { StartupError, StartupErrorCode } from "./startup-error.ts";

/**
 * Without tokens the admin API trusts whoever reaches it, which is safe only when that is
 * this machine: binding it anywhere else (0.0.0.0, a LAN address) needs --admin-auth token.
 */
export function checkAdminExposure(options: { readonly adminHost: string; readonly adminAuth: "none" | "token" }): void {
  if (options.adminAuth === "token" || isLoopbackHost(options.adminHost)) return;
  throw new StartupError(
    StartupErrorCode.AdminUnprotected,
    `the admin API would listen on ${options.adminHost}, beyond this machine, with no authentication: ` +
      "start with --admin-auth token (env CONTROL_PLANE_ADMIN_AUTH) to require bearer tokens, or bind it to 127.0.0.1 with --admin-host",
  );
}
