import type { IncomingMessage } from "node:http";
import { ApiError, ApiErrorCode } from "./api-error.ts";
import { isDashboardPath } from "./dashboard-routes.ts";
import { bearerToken, type Role, roleIncludes, type TokenStore } from "./token-store.ts";

/** How the admin API knows its callers: nobody (loopback only), or bearer tokens with roles. */
export type AdminAuth = { readonly mode: "none" } | { readonly mode: "token"; readonly tokens: TokenStore };

/** Who made a request: a token's name, or nobody when authentication is off. */
export interface Caller {
  readonly identity: string | undefined;
}

/**
 * The role a request needs. Reading, and what only computes an answer (validate, diff),
 * is `read`; what changes the configuration is `write`; managing tokens is `admin`.
 * /healthz needs nothing, so liveness probes need no secret.
 */
export function requiredRole(method: string, segments: readonly string[]): Role | undefined {
  if (segments.length === 1 && segments[0] === "healthz") return undefined;
  // The dashboard's own files (`/`, `/dashboard/...`) hold no data: a browser must load the
  // page before it can ask for a token; everything the page shows comes from the API below.
  if (isDashboardPath(segments)) return undefined;
  const what = segments[0] === "api" && segments[1] === "v1" ? segments[2] : undefined;
  if (what === "tokens") return "admin";
  if (what === "apply" || what === "delete" || what === "rollback") return "write";
  if (what === "objects" && method !== "GET" && method !== "HEAD") return "write";
  // Promoting or aborting a rollout changes what proxies run (issue 11).
  if (what === "rollout" && method !== "GET" && method !== "HEAD") return "write";
  // Purging history deletes revisions for good: a change, not a read.
  if (what === "history" && segments[3] === "purge") return "write";
  return "read";
}

/** Checks the bearer token against the role the request needs: 401 without a known token, 403 when its role is too low. */
export function authorize(req: IncomingMessage, auth: AdminAuth, needed: Role | undefined): Caller {
  if (auth.mode === "none" || needed === undefined) return { identity: undefined };
  const value = bearerToken(req.headers.authorization);
  const what = `${req.method ?? "GET"} ${new URL(req.url ?? "/", "http://admin").pathname}`;
  if (value === undefined) {
    throw new ApiError(
      ApiErrorCode.Unauthorized,
      `${what} needs a token with role ${needed}: send Authorization: Bearer TOKEN (the CLI takes --token, TCP_TOKEN or <data-dir>/admin-token)`,
      { extra: { requiredRole: needed } },
    );
  }
  const token = auth.tokens.verify(value);
  if (token === undefined) {
    throw new ApiError(ApiErrorCode.Unauthorized, `the token is not known (revoked, or never created); ${what} needs a token with role ${needed}`, {
      extra: { requiredRole: needed },
    });
  }
  if (!roleIncludes(token.role, needed)) {
    throw new ApiError(ApiErrorCode.Forbidden, `token ${JSON.stringify(token.name)} has role ${token.role}; ${what} needs role ${needed}`, {
      extra: { requiredRole: needed, role: token.role },
    });
  }
  return { identity: `token:${token.name}` };
}
