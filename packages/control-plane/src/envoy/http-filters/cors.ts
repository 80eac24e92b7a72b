import type { Any } from "@bufbuild/protobuf/wkt";
import { CorsPolicySchema, CorsSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/cors/v3/cors_pb";
import type { CorsConfig } from "../../model/http-filter-spec.ts";
import { packJson } from "./pack-json.ts";

/** envoy.filters.http.cors in the chain: it holds no policy, the policy comes from the route configuration. */
export function buildCorsFilter(): Any {
  return packJson(CorsSchema, {});
}

/**
 * The CorsPolicy, sent as typed_per_filter_config: on the RouteConfiguration for the
 * listener's settings, on a route for its override (cors.proto: the filter reads the most
 * specific one).
 */
export function buildCorsPolicy(c: CorsConfig): Any {
  return packJson(CorsPolicySchema, {
    // "*" as a regex: a prefix matcher must not be empty (StringMatcher.prefix min_len 1).
    allowOriginStringMatch: c.allowOrigins.map((o) => (o === "*" ? { safeRegex: { regex: ".*" } } : { exact: o })),
    ...(c.allowMethods.length === 0 ? {} : { allowMethods: c.allowMethods.join(",") }),
    ...(c.allowHeaders.length === 0 ? {} : { allowHeaders: c.allowHeaders.join(",") }),
    ...(c.exposeHeaders.length === 0 ? {} : { exposeHeaders: c.exposeHeaders.join(",") }),
    ...(c.maxAgeSeconds === undefined ? {} : { maxAge: String(c.maxAgeSeconds) }),
    ...(c.allowCredentials ? { allowCredentials: true } : {}),
  });
}
