import { didYouMean } from "./did-you-mean.ts";
import type { PathSegment } from "./field-path.ts";
import { retryConditions } from "./retry-conditions.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { routeSchema } from "./schema/route-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const backOffFields = schemaFields(routeSchema, "routes", "[]", "retries", "backOff");


export interface RetryPolicySpec {
  attempts: number;
  /** Conditions, in the order written (Envoy reads a comma-separated list). */
  retryOn: string[];
  perTryTimeoutMs?: number;
  /** Upstream status codes that also count as retriable (retryOn gets retriable-status-codes). */
  retriableStatusCodes?: number[];
  backOff?: { baseMs: number; maxMs?: number };
}

export const retryFields = schemaFields(routeSchema, "routes", "[]", "retries");

export function readRetryPolicy(value: unknown, path: PathSegment[], r: SpecReader): RetryPolicySpec | undefined {
  const rec = r.mapping(value, path, retryFields);
  if (rec === undefined) return undefined;
  const attempts = r.integer(rec, "attempts", path, { min: 0, max: 100 }) ?? 1;
  // retryOn reads as a list or, as before, a comma-separated string.
  const raw = rec["retryOn"];
  const retryOn = raw === undefined ? ["5xx", "connect-failure", "reset"] : typeof raw === "string" ? raw.split(",").map((s) => s.trim()) : (r.stringList(rec, "retryOn", path, { minItems: 1 }) ?? []);
  retryOn.forEach((c, i) => {
    if ((retryConditions as readonly string[]).includes(c)) return;
    const near = didYouMean(c, retryConditions);
    r.error(typeof raw === "string" ? [...path, "retryOn"] : [...path, "retryOn", i], "route.retry_on", `'${c}' is not a retry condition Envoy knows`, near !== undefined ? `did you mean '${near}'?` : `use some of: ${retryConditions.join(", ")}`);
  });
  const perTry = r.duration(rec, "perTryTimeout", path, { min: 1 });
  const out: RetryPolicySpec = { attempts, retryOn: [...new Set(retryOn)] };
  if (perTry !== undefined) out.perTryTimeoutMs = perTry;
  if (rec["retriableStatusCodes"] !== undefined) {
    const codes: number[] = [];
    (r.list(rec, "retriableStatusCodes", path, { minItems: 1 }) ?? []).forEach((c, i) => {
      if (typeof c !== "number" || !Number.isInteger(c) || c < 100 || c > 599) {
        r.error([...path, "retriableStatusCodes", i], "schema.range", `retriableStatusCodes[${i}] is ${JSON.stringify(c)}, not an HTTP status code`, "use whole numbers from 100 to 599, e.g. 503");
      } else if (!codes.includes(c)) codes.push(c);
    });
    out.retriableStatusCodes = codes.sort((a, b) => a - b);
    // Envoy ignores retriable_status_codes unless retry_on has retriable-status-codes: add it, since listing codes says what is meant.
    if (!out.retryOn.includes("retriable-status-codes")) out.retryOn.push("retriable-status-codes");
  }
  if (rec["backOff"] !== undefined) {
    const bp = [...path, "backOff"];
    const b = r.mapping(rec["backOff"], bp, backOffFields);
    if (b !== undefined) {
      // Envoy requires base_interval > 0 and max_interval >= base_interval (route_components.proto).
      const baseMs = r.duration(b, "baseInterval", bp, { required: true, min: 1 });
      const maxMs = r.duration(b, "maxInterval", bp, { min: 1 });
      if (baseMs !== undefined && maxMs !== undefined && maxMs < baseMs) {
        r.error([...bp, "maxInterval"], "route.retry_back_off", "maxInterval is shorter than baseInterval", "set maxInterval to at least baseInterval (Envoy's default is 10 times baseInterval)");
      } else if (baseMs !== undefined) out.backOff = maxMs === undefined ? { baseMs } : { baseMs, maxMs };
    }
  }
  return out;
}
