import type { CsdsAuthorize } from "@ts-control-plane/xds";
import { describePeerIdentity } from "../status/authorize-node-group.ts";
import { bearerToken, roleIncludes, type TokenStore } from "./token-store.ts";

/** What {@link authorizeCsds} accepts: admin tokens (when `--admin-auth token`) and operator certificate identities. */
export interface AuthorizeCsdsOptions {
  /** The admin API's tokens; undefined when admin authentication is off. */
  readonly tokens: TokenStore | undefined;
  /** Client certificate identities of operators (`--csds-identity`), matched as NodeGroup identities are. */
  readonly identities: readonly string[];
}

/**
 * CSDS shows every proxy's configuration, so with security on it asks what the
 * admin API's read role asks (issue 13): `authorization: Bearer TOKEN` with a
 * token of role read or higher, or a verified client certificate whose
 * identity (first URI SAN, else dns:NAME, else cn:NAME, as NodeGroup
 * spec.identities) is an operator's. A proxy's own certificate is not enough.
 */
export function authorizeCsds(options: AuthorizeCsdsOptions): CsdsAuthorize {
  const how = [
    ...(options.tokens === undefined ? [] : ["send metadata authorization: Bearer TOKEN with an admin token of role read or higher"]),
    "connect with a client certificate whose identity serve's --csds-identity lists",
  ].join(", or ");
  return ({ peer, metadata }) => {
    if (peer !== undefined && peer.identity !== "" && options.identities.includes(peer.identity)) return undefined;
    const header = metadata.get("authorization")[0];
    if (header !== undefined) {
      if (options.tokens === undefined) return { code: "unauthenticated", message: `CSDS: admin tokens are off (serve without --admin-auth token), so a bearer token is not accepted; ${how}` };
      const value = bearerToken(String(header));
      const token = value === undefined ? undefined : options.tokens.verify(value);
      if (token === undefined) return { code: "unauthenticated", message: `CSDS: the token is not known (revoked, never created, or not "Bearer TOKEN"); ${how}` };
      // Every role includes read; the check stays so a lower role added later is refused here too.
      if (!roleIncludes(token.role, "read")) return { code: "permission_denied", message: `CSDS: token ${JSON.stringify(token.name)} has role ${token.role}; CSDS needs role read` };
      return undefined;
    }
    if (peer !== undefined) {
      return { code: "permission_denied", message: `CSDS: ${describePeerIdentity(peer)} is not an operator identity; ${how}` };
    }
    return { code: "unauthenticated", message: `CSDS needs credentials: ${how}` };
  };
}
