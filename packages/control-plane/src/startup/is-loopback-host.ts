import { isIP } from "node:net";

/**
 * Whether a listen host is reachable only from this machine: localhost,
 * 127.0.0.0/8 or ::1. Anything else (0.0.0.0, ::, a LAN address, a name) is
 * treated as reachable from outside.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (h.startsWith("::ffff:")) return h.slice(7).startsWith("127.");
  return false;
}
