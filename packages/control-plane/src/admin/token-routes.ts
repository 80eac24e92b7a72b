import type { AdminAuth } from "./admin-auth.ts";
import { ApiError, ApiErrorCode } from "./api-error.ts";
import type { Role } from "./token-store.ts";

/**
 * /api/v1/tokens: GET lists (names, roles, dates; never a value), POST `{ "name", "role" }`
 * creates and answers the value once, DELETE /api/v1/tokens/{name} revokes.
 */
export async function tokenRoutes(request: {
  readonly method: string;
  readonly segments: readonly string[];
  readonly auth: AdminAuth;
  readonly readBody: () => Promise<string>;
  readonly log: (line: string) => void;
  readonly identity: string | undefined;
}): Promise<{ status?: number; json: unknown }> {
  const { method, auth } = request;
  if (auth.mode !== "token") {
    throw new ApiError(ApiErrorCode.BadRequest, "authentication is off, so there are no tokens; start the control plane with --admin-auth token");
  }
  const [name, ...rest] = request.segments.slice(3);
  if (rest.length > 0) throw new ApiError(ApiErrorCode.NotFound, `no such path /api/v1/tokens/${request.segments.slice(3).join("/")}`);
  if (name === undefined && method === "GET") return { json: { items: auth.tokens.list() } };
  if (name === undefined && method === "POST") {
    let body: { name?: unknown; role?: unknown };
    try {
      body = JSON.parse(await request.readBody()) as typeof body;
    } catch {
      throw new ApiError(ApiErrorCode.BadRequest, 'the body must be JSON like {"name": "ci", "role": "write"}');
    }
    if (typeof body.name !== "string" || typeof body.role !== "string") {
      throw new ApiError(ApiErrorCode.BadRequest, 'say the token\'s name and role: {"name": "ci", "role": "read|write|admin"}');
    }
    const created = auth.tokens.create({ name: body.name, role: body.role as Role });
    request.log(`token ${created.info.name} (role ${created.info.role}) created by ${request.identity ?? "an unauthenticated caller"}`);
    return { status: 201, json: { ...created.info, token: created.token } };
  }
  if (name !== undefined && method === "DELETE") {
    if (!auth.tokens.revoke(name)) throw new ApiError(ApiErrorCode.NotFound, `no token named ${JSON.stringify(name)}; \`tcp token list\` lists them`);
    request.log(`token ${name} revoked by ${request.identity ?? "an unauthenticated caller"}`);
    return { json: { revoked: name } };
  }
  throw new ApiError(ApiErrorCode.MethodNotAllowed, `${method} is not allowed here; use GET or POST /api/v1/tokens, DELETE /api/v1/tokens/{name}`);
}
