import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/** Media types a state-changing request may carry; none of them can be sent cross-site without a CORS preflight. */
export const stateChangingMediaTypes: readonly string[] = ["application/json", "application/yaml", "application/x-yaml", "text/yaml"];

const stateChangingMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const wildcardHosts = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * The Host header values the admin API answers to: the loopback names, the bind address
 * (for a wildcard, every address of this machine's interfaces) and the operator's extra
 * names (`--admin-allowed-host`), each with the port when it has none. Addresses are safe
 * to allow: a DNS rebinding page can only send its own name. A name without a port also matches on port 80, since
 * browsers leave the default port out of Host.
 */
export function allowedHosts(options: { readonly port: number; readonly bindHost: string; readonly extra?: readonly string[] }): ReadonlySet<string> {
  const bound = wildcardHosts.has(options.bindHost)
    ? Object.values(networkInterfaces())
        .flat()
        .flatMap((a) => (a === undefined || a.address.includes("%") ? [] : [a.address]))
    : [options.bindHost];
  const names = ["127.0.0.1", "localhost", "[::1]", ...(options.extra ?? []), ...bound];
  const out = new Set<string>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    const bracketed = isIP(name) === 6 ? `[${name}]` : name;
    const hasPort = /^\[.*\]:\d+$/.test(bracketed) || (!bracketed.startsWith("[") && /:\d+$/.test(bracketed));
    if (hasPort) {
      out.add(bracketed);
      continue;
    }
    out.add(`${bracketed}:${options.port}`);
    if (options.port === 80) out.add(bracketed);
  }
  return out;
}

/**
 * Refuses, before anything reads the store: a Host that is not one of ours (a DNS rebinding
 * page reaches 127.0.0.1 under its own name), an Origin that is not ours (a cross-site page),
 * and a state-changing request whose body type a plain HTML form or a no-cors fetch could
 * send (text/plain, forms): browsers send JSON or YAML cross-site only after a preflight,
 * which this API never answers. Issue 13.
 */
export function checkRequestOrigin(req: IncomingMessage, hosts: ReadonlySet<string>): void {
  const host = (req.headers.host ?? "").toLowerCase();
  if (!hosts.has(host)) {
    throw new ApiError(
      ApiErrorCode.Forbidden,
      `Host ${JSON.stringify(req.headers.host ?? "")} is not an address of this admin API (allowed: ${[...hosts].join(", ")}); ` +
        "to reach it under another name, start the control plane with --admin-allowed-host NAME",
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.has(originHost(origin))) {
    throw new ApiError(ApiErrorCode.Forbidden, `Origin ${JSON.stringify(origin)} is not this admin API; cross-site requests are refused`);
  }
  const method = (req.method ?? "GET").toUpperCase();
  if (stateChangingMethods.has(method)) {
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!stateChangingMediaTypes.includes(type)) {
      throw new ApiError(
        ApiErrorCode.UnsupportedMediaType,
        `${method} needs Content-Type ${stateChangingMediaTypes.join(" or ")}, got ${type === "" ? "none" : JSON.stringify(type)}; ` +
          "the types a cross-site form can send are refused",
      );
    }
  }
}

function originHost(origin: string): string {
  try {
    const url = new URL(origin);
    // Our origin is plain http; an https or "null" origin is some other page.
    return url.protocol === "http:" ? url.host.toLowerCase() : "";
  } catch {
    return "";
  }
}
