import type { Any } from "@bufbuild/protobuf/wkt";
import { LocalRateLimitSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb";
import type { LocalRateLimitConfig } from "../../model/http-filter-spec.ts";
import { allRequests, jsonDuration, packJson } from "./pack-json.ts";

/**
 * envoy.filters.http.local_ratelimit: one token bucket per Envoy, shared by its workers.
 * The same message serves the listener and a route; a route's own config has its own bucket,
 * so a tighter limit on one path does not use up the listener's tokens.
 */
export function buildLocalRateLimit(name: string, c: LocalRateLimitConfig): Any {
  return packJson(LocalRateLimitSchema, {
    statPrefix: name,
    tokenBucket: { maxTokens: c.tokens, tokensPerFill: c.tokensPerFill, fillInterval: jsonDuration(c.fillIntervalMs) },
    // Without both fractions the filter only counts (local_rate_limit.proto: filter_enabled, filter_enforced default to 0%).
    filterEnabled: allRequests(`${name}.enabled`),
    filterEnforced: allRequests(`${name}.enforced`),
  });
}
