import type { PathSegment } from "./field-path.ts";
import { readJwt } from "./jwt-filter-spec.ts";
import { readRbac } from "./rbac-filter-spec.ts";
import { readTypedConfig, type TypedConfig } from "./read-typed-config.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { httpFilterSchema } from "./schema/http-filter-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const abortFields = schemaFields(httpFilterSchema, "abort");
const delayFields = schemaFields(httpFilterSchema, "delay");

export const httpFilterTypes = ["cors", "localRateLimit", "rbac", "fault", "compression", "jwt", "extAuthz", "raw"] as const;
export type HttpFilterType = (typeof httpFilterTypes)[number];

export interface LocalRateLimitConfig {
  /** Bucket size: how many requests may pass at once. */
  tokens: number;
  /** Tokens added back every fillInterval. */
  tokensPerFill: number;
  fillIntervalMs: number;
}

export interface CorsConfig {
  /** Exact origins, or "*" for any. */
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
  allowCredentials: boolean;
}

export interface RbacHeaderPrincipal {
  name: string;
  kind: "exact" | "prefix" | "present";
  value: string;
}

export interface RbacJwtClaim {
  /** A provider of a jwt filter listed before this one: its verified payload is what is matched. */
  provider: string;
  claim: string;
  kind: "exact" | "prefix";
  value: string;
}

export interface RbacConfig {
  /** Allow: only matching requests pass. Deny: matching requests get 403. */
  action: "Allow" | "Deny";
  /** Matched against the peer's address (the connection's source). */
  sourceCidrs: { address: string; prefixLen: number }[];
  headers: RbacHeaderPrincipal[];
  jwtClaims: RbacJwtClaim[];
}

export interface FaultConfig {
  abort?: { status: number; percent: number };
  delay?: { durationMs: number; percent: number };
}

export interface CompressionConfig {
  algorithm: "gzip" | "brotli";
  minContentLength: number;
}

export interface JwtProviderSpec {
  name: string;
  issuer?: string;
  /** Tokens must carry one of these in aud; any audience when empty. */
  audiences: string[];
  /** Where the keys come from: the JWKS document inline (JSON text), or fetched by Envoy from a Service. */
  keys: { jwks: string } | { remote: { service: string; path: string; cacheDurationMs?: number } };
}

export interface JwtConfig {
  providers: JwtProviderSpec[];
  /** The provider every request must carry a valid token of; none (routes decide) when absent. */
  require?: string;
}

export interface ExtAuthzConfig {
  /** The Service that answers the checks. */
  service: string;
  /** HTTP: each request is replayed to the service (2xx allows); GRPC: envoy.service.auth.v3.Authorization/Check. */
  protocol: "HTTP" | "GRPC";
  timeoutMs: number;
  /** HTTP: prefixed to the request's path in the check. */
  pathPrefix?: string;
  /** Let requests through when the service cannot be reached (failure_mode_allow). */
  failOpen: boolean;
}

/** One type's settings; the same shapes serve the listener's filter and a route's override. */
export type HttpFilterConfig =
  | { type: "cors"; cors: CorsConfig }
  | { type: "localRateLimit"; localRateLimit: LocalRateLimitConfig }
  | { type: "rbac"; rbac: RbacConfig }
  | { type: "fault"; fault: FaultConfig }
  | { type: "compression"; compression: CompressionConfig }
  | { type: "jwt"; jwt: JwtConfig }
  | { type: "extAuthz"; extAuthz: ExtAuthzConfig }
  | { type: "raw"; raw: TypedConfig };

/** One entry of a listener's spec.httpFilters: its name is what routes override it by. */
export type HttpFilterSpec = { name: string } & HttpFilterConfig;

/** The Services a listener's filters send to (extAuthz, remote JWKS), with the field that names each (from spec). */
export function httpFilterServices(filters: readonly HttpFilterSpec[]): { path: PathSegment[]; service: string; grpc: boolean }[] {
  return filters.flatMap((f, index) => {
    const at: PathSegment[] = ["spec", "httpFilters", index];
    if (f.type === "extAuthz") return [{ path: [...at, "service"], service: f.extAuthz.service, grpc: f.extAuthz.protocol === "GRPC" }];
    if (f.type !== "jwt") return [];
    return f.jwt.providers.flatMap((p, j) => ("remote" in p.keys ? [{ path: [...at, "providers", j, "remoteJwks", "service"], service: p.keys.remote.service, grpc: false }] : []));
  });
}

/**
 * An rbac filter matching token claims reads what a jwt filter verified, so that jwt filter
 * must run first: every claim's provider must belong to a jwt filter before `index` (RBAC
 * would otherwise see no claims and never match).
 */
export function claimProviderProblem(config: HttpFilterConfig, filters: readonly HttpFilterSpec[], index: number): { index: number; message: string; hint: string } | undefined {
  if (config.type !== "rbac") return undefined;
  const before = new Set(filters.slice(0, index).flatMap((f) => (f.type === "jwt" ? f.jwt.providers.map((p) => p.name) : [])));
  const i = config.rbac.jwtClaims.findIndex((c) => !before.has(c.provider));
  const claim = config.rbac.jwtClaims[i];
  if (claim === undefined) return undefined;
  return {
    index: i,
    message: `no jwt filter before this one has provider '${claim.provider}'`,
    hint: before.size === 0 ? "list a jwt filter with this provider before the rbac filter" : `use one of: ${[...before].sort().join(", ")}, or move the jwt filter with '${claim.provider}' before this one`,
  };
}

/** Envoy's router, appended last to every chain; a user filter may not take its name. */
export const routerFilterName = "envoy.filters.http.router";

/**
 * The fields each filter type takes. Narrower than the schema's HttpFilter entry (one flat
 * mapping for editors); model-schema.test.ts checks that both name the same fields.
 */
export const httpFilterTypeFields: Record<HttpFilterType, readonly string[]> = {
  cors: ["allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"],
  localRateLimit: ["tokens", "tokensPerFill", "fillInterval"],
  rbac: ["action", "sourceCidrs", "headers", "jwtClaims"],
  fault: ["abort", "delay"],
  compression: ["algorithm", "minContentLength"],
  jwt: ["providers", "require"],
  extAuthz: ["service", "protocol", "timeout", "pathPrefix", "failOpen"],
  raw: ["typedConfig"],
};

/** spec.httpFilters of an HTTP(S) listener: names unique, order kept (Envoy runs them in order). */
export function readHttpFilters(rec: Record<string, unknown>, path: readonly PathSegment[], r: SpecReader): HttpFilterSpec[] {
  const items = r.list(rec, "httpFilters", path) ?? [];
  const out: HttpFilterSpec[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const fp = [...path, "httpFilters", i];
    const f = readFilterConfig(item, fp, r, ["name"]);
    if (f === undefined) return;
    const name = r.string(f.rec, "name", fp, { required: true });
    if (name === undefined) return;
    if (name === routerFilterName) {
      r.error([...fp, "name"], "filter.reserved_name", `'${routerFilterName}' is the router, which is always added last`, "give the filter another name; the router needs no entry");
      return;
    }
    if (seen.has(name)) {
      r.error([...fp, "name"], "schema.duplicate", `filter name '${name}' is used twice`, "give each filter its own name: routes refer to filters by name");
      return;
    }
    seen.add(name);
    if (f.config === undefined) return;
    const problem = claimProviderProblem(f.config, out, out.length);
    if (problem !== undefined) r.error([...fp, "jwtClaims", problem.index, "provider"], "filter.jwt_claim_provider", problem.message, problem.hint);
    else out.push({ name, ...f.config });
  });
  return out;
}

/**
 * A route rule's `filters:` map, filter name -> override: `disabled: true` turns the
 * listener's filter off for that route; otherwise the entry gives the type and its
 * settings, sent as the filter's per-route config (typed_per_filter_config).
 */
export type FilterOverride = { disabled: true } | { type: "jwt"; require: string } | Exclude<HttpFilterConfig, { type: "jwt" }>;

/**
 * Types whose settings a route may replace. compression and extAuthz can only be disabled
 * per route here: Envoy's per-route messages for them (CompressorPerRoute, ExtAuthzPerRoute)
 * hold other things than the filter's settings, and are not modelled yet.
 */
export const overridableFilterTypes: readonly HttpFilterType[] = ["cors", "localRateLimit", "rbac", "fault", "raw"];

export function readFilterOverrides(value: unknown, path: readonly PathSegment[], r: SpecReader): Record<string, FilterOverride> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    r.error(path, "schema.type", "filters must be a mapping of filter name to override", "write filters as `<filter name>: { disabled: true }` or `<filter name>: { type: ..., ... }`");
    return undefined;
  }
  const out: Record<string, FilterOverride> = {};
  for (const [name, item] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const op = [...path, name];
    if (typeof item === "object" && item !== null && !Array.isArray(item) && "disabled" in item) {
      const rec = r.mapping(item, op, ["disabled"]);
      if (rec === undefined) continue;
      const disabled = r.boolean(rec, "disabled", op);
      if (disabled === false) r.error([...op, "disabled"], "filter.override", "disabled: false changes nothing", "remove the override to keep the listener's settings, or give type and settings");
      if (disabled === true) out[name] = { disabled: true };
      continue;
    }
    if (typeof item === "object" && item !== null && !Array.isArray(item) && (item as Record<string, unknown>)["type"] === "jwt") {
      // A route picks which of the listener's providers it requires (jwt_authn PerRouteConfig.requirement_name).
      const rec = r.mapping(item, op, ["type", "require"]);
      const require = rec === undefined ? undefined : r.string(rec, "require", op, { required: true });
      if (require !== undefined) out[name] = { type: "jwt", require };
      continue;
    }
    const f = readFilterConfig(item, op, r, []);
    if (f?.config === undefined) continue;
    if (!overridableFilterTypes.includes(f.config.type)) {
      r.error([...op, "type"], "filter.override", `a ${f.config.type} filter can only be disabled per route`, "use disabled: true to turn it off for this route, or remove the override");
      continue;
    }
    if (f.config.type !== "jwt") out[name] = f.config;
  }
  return out;
}

function readFilterConfig(
  value: unknown,
  path: readonly PathSegment[],
  r: SpecReader,
  extra: readonly string[],
): { rec: Record<string, unknown>; config?: HttpFilterConfig } | undefined {
  const loose = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const typeValue = loose?.["type"];
  const known = typeof typeValue === "string" && (httpFilterTypes as readonly string[]).includes(typeValue) ? (typeValue as HttpFilterType) : undefined;
  // With an unknown type only the type is reported: which other fields belong is unknown too.
  const rec = r.mapping(value, path, known === undefined ? Object.keys(loose ?? {}) : [...extra, "type", ...httpFilterTypeFields[known]]);
  if (rec === undefined) return undefined;
  const type = r.enumeration(rec, "type", path, httpFilterTypes, { required: true });
  if (type === undefined) return { rec };
  const before = r.diagnostics.length;
  const config = readByType(type, rec, path, r);
  const clean = !r.diagnostics.slice(before).some((d) => d.severity === "error");
  return config === undefined || !clean ? { rec } : { rec, config };
}

function readByType(type: HttpFilterType, rec: Record<string, unknown>, path: readonly PathSegment[], r: SpecReader): HttpFilterConfig | undefined {
  switch (type) {
    case "localRateLimit": {
      const tokens = r.integer(rec, "tokens", path, { required: true, min: 1 });
      const tokensPerFill = r.integer(rec, "tokensPerFill", path, { min: 1 }) ?? tokens;
      // Envoy's token bucket refills at most every 50 ms (local_rate_limit.proto: fill_interval must be >= 50ms).
      const fillIntervalMs = r.duration(rec, "fillInterval", path, { required: true, min: 50 });
      if (tokens === undefined || tokensPerFill === undefined || fillIntervalMs === undefined) return undefined;
      return { type, localRateLimit: { tokens, tokensPerFill, fillIntervalMs } };
    }
    case "cors": {
      const allowOrigins = r.stringList(rec, "allowOrigins", path, { required: true, minItems: 1 }) ?? [];
      const maxAgeMs = r.duration(rec, "maxAge", path);
      const cors: CorsConfig = {
        allowOrigins,
        allowMethods: r.stringList(rec, "allowMethods", path) ?? [],
        allowHeaders: r.stringList(rec, "allowHeaders", path) ?? [],
        exposeHeaders: r.stringList(rec, "exposeHeaders", path) ?? [],
        allowCredentials: r.boolean(rec, "allowCredentials", path) ?? false,
      };
      if (maxAgeMs !== undefined) cors.maxAgeSeconds = Math.floor(maxAgeMs / 1000);
      return { type, cors };
    }
    case "rbac":
      return readRbac(rec, path, r);
    case "fault":
      return readFault(rec, path, r);
    case "compression": {
      const algorithm = r.enumeration(rec, "algorithm", path, ["gzip", "brotli"] as const) ?? "gzip";
      const minContentLength = r.integer(rec, "minContentLength", path, { min: 0 }) ?? 30;
      return { type, compression: { algorithm, minContentLength } };
    }
    case "jwt":
      return readJwt(rec, path, r);
    case "extAuthz": {
      const service = r.string(rec, "service", path, { required: true });
      const protocol = r.enumeration(rec, "protocol", path, ["HTTP", "GRPC"] as const) ?? "HTTP";
      // Envoy's own default (ext_authz.proto: HttpUri.timeout, GrpcService.timeout default to 200ms).
      const timeoutMs = r.duration(rec, "timeout", path, { min: 1 }) ?? 200;
      const pathPrefix = r.string(rec, "pathPrefix", path);
      if (pathPrefix !== undefined && !pathPrefix.startsWith("/")) r.error([...path, "pathPrefix"], "route.path_slash", `pathPrefix '${pathPrefix}' does not start with /`, `write it as '/${pathPrefix}'`);
      if (pathPrefix !== undefined && protocol === "GRPC") r.error([...path, "pathPrefix"], "filter.ext_authz", "pathPrefix only applies to protocol: HTTP", "remove pathPrefix or use protocol: HTTP");
      const failOpen = r.boolean(rec, "failOpen", path) ?? false;
      if (service === undefined) return undefined;
      return { type: "extAuthz", extAuthz: { service, protocol, timeoutMs, failOpen, ...(pathPrefix === undefined ? {} : { pathPrefix }) } };
    }
    case "raw": {
      const raw = readTypedConfig(rec, "typedConfig", path, r);
      return raw === undefined ? undefined : { type, raw };
    }
  }
}

function readFault(rec: Record<string, unknown>, path: readonly PathSegment[], r: SpecReader): HttpFilterConfig | undefined {
  const fault: FaultConfig = {};
  if (rec["abort"] !== undefined) {
    const ap = [...path, "abort"];
    const a = r.mapping(rec["abort"], ap, abortFields);
    const status = a === undefined ? undefined : r.integer(a, "status", ap, { required: true, min: 200, max: 599 });
    const percent = a === undefined ? undefined : (r.integer(a, "percent", ap, { min: 0, max: 100 }) ?? 100);
    if (status !== undefined && percent !== undefined) fault.abort = { status, percent };
  }
  if (rec["delay"] !== undefined) {
    const dp = [...path, "delay"];
    const d = r.mapping(rec["delay"], dp, delayFields);
    const durationMs = d === undefined ? undefined : r.duration(d, "duration", dp, { required: true, min: 1 });
    const percent = d === undefined ? undefined : (r.integer(d, "percent", dp, { min: 0, max: 100 }) ?? 100);
    if (durationMs !== undefined && percent !== undefined) fault.delay = { durationMs, percent };
  }
  if (rec["abort"] === undefined && rec["delay"] === undefined) {
    r.error([...path, "abort"], "schema.required", "a fault filter needs abort or delay", "add abort: { status: 503, percent: 10 } or delay: { duration: 1s, percent: 10 }");
    return undefined;
  }
  return { type: "fault", fault };
}
