/**
 * The retry_on conditions Envoy knows (router filter, x-envoy-retry-on and x-envoy-retry-grpc-on):
 * one list for the reader (retry-policy-spec.ts) and the editor schema (schema/route-schema.ts),
 * in a module of its own so neither imports the other.
 */
export const retryConditions = [
  "5xx",
  "gateway-error",
  "reset",
  "reset-before-request",
  "connect-failure",
  "envoy-ratelimited",
  "retriable-4xx",
  "refused-stream",
  "retriable-status-codes",
  "retriable-headers",
  "http3-post-connect-failure",
  "cancelled",
  "deadline-exceeded",
  "internal",
  "resource-exhausted",
  "unavailable",
] as const;
