import type { Any } from "@bufbuild/protobuf/wkt";
import { JwtAuthenticationSchema, PerRouteConfigSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/jwt_authn/v3/config_pb";
import type { JwtConfig } from "../../model/http-filter-spec.ts";
import { clusterName } from "../../graph/resource-names.ts";
import { jsonDuration, packJson } from "./pack-json.ts";

/**
 * envoy.filters.http.jwt_authn: one provider per entry, keys inline (local_jwks) or fetched
 * from a Service (remote_jwks, cached by Envoy), and one
 * requirement per provider under its own name, which is what a route's override selects
 * (PerRouteConfig.requirement_name). The listener's `require` is a rule for every path;
 * a route with its own config is judged by that config instead of the rules (config.proto).
 * Missing or bad tokens get 401; a valid token for another audience gets 403.
 */
export function buildJwt(c: JwtConfig): Any {
  const sorted = [...c.providers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return packJson(JwtAuthenticationSchema, {
    providers: Object.fromEntries(
      sorted.map((p) => [
        p.name,
        {
          ...(p.issuer === undefined ? {} : { issuer: p.issuer }),
          ...(p.audiences.length === 0 ? {} : { audiences: p.audiences }),
          ...("jwks" in p.keys
            ? { localJwks: { inlineString: p.keys.jwks } }
            : {
                remoteJwks: {
                  // The host in the URI is only the Host header of the fetch; the cluster decides where it goes.
                  httpUri: { uri: `http://${p.keys.remote.service}${p.keys.remote.path}`, cluster: clusterName(p.keys.remote.service), timeout: "1s" },
                  ...(p.keys.remote.cacheDurationMs === undefined ? {} : { cacheDuration: jsonDuration(p.keys.remote.cacheDurationMs) }),
                },
              }),
          // The verified payload, for rbac jwtClaims principals (rbac.ts).
          payloadInMetadata: p.name,
        },
      ]),
    ),
    requirementMap: Object.fromEntries(sorted.map((p) => [p.name, { providerName: p.name }])),
    ...(c.require === undefined ? {} : { rules: [{ match: { prefix: "/" }, requires: { providerName: c.require } }] }),
  });
}

/** A route requires a valid token of this provider. */
export function buildJwtPerRoute(provider: string): Any {
  return packJson(PerRouteConfigSchema, { requirementName: provider });
}
