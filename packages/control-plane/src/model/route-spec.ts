import type { PathSegment } from "./field-path.ts";
import { readHeaderModifiers, type HeaderModifiers } from "./header-modifier-spec.ts";
import { type FilterOverride, readFilterOverrides } from "./http-filter-spec.ts";
import { checkRe2 } from "./re2-check.ts";
import { readRetryPolicy, type RetryPolicySpec } from "./retry-policy-spec.ts";
import {
  readDirectResponse,
  readMirrors,
  readRedirect,
  readRegexRewrite,
  readUpgradeSwitches,
  type DirectResponseSpec,
  type MirrorSpec,
  type RedirectSpec,
  type RegexRewriteSpec,
} from "./route-action-spec.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { routeSchema } from "./schema/route-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(routeSchema);
const backendFields = schemaFields(routeSchema, "routes", "[]", "backends", "[]");
const decoratorFields = schemaFields(routeSchema, "routes", "[]", "decorator");
const matchFields = schemaFields(routeSchema, "routes", "[]", "match");
const matchHeaderFields = schemaFields(routeSchema, "routes", "[]", "match", "headers", "[]");
const hashOnFields = schemaFields(routeSchema, "routes", "[]", "hashOn");

export type PathMatch = { kind: "prefix" | "exact" | "regex"; value: string };

export interface HeaderMatch {
  name: string;
  kind: "exact" | "prefix" | "regex" | "present";
  value: string;
  invert: boolean;
}

export interface Backend {
  service: string;
  weight: number;
}

export interface RouteRule {
  match: { path: PathMatch; headers: HeaderMatch[] };
  /** Empty when the rule answers by redirect or directResponse (exactly one of the three is set). */
  backends: Backend[];
  redirect?: RedirectSpec;
  directResponse?: DirectResponseSpec;
  hostRewrite?: string;
  prefixRewrite?: string;
  regexRewrite?: RegexRewriteSpec;
  timeoutMs?: number;
  retries?: RetryPolicySpec;
  /** Shadow copies of the requests, sorted by service. */
  mirror?: MirrorSpec[];
  /** Upgrades turned on or off for this rule, overriding the listener's upgrades. */
  upgrades?: Record<string, boolean>;
  /** Header changes for this rule only (Envoy applies them first, then the route table's, then the listener's). */
  headers?: HeaderModifiers;
  /** Operation name of the span for this route (tracing decorator). */
  decorator?: string;
  /** What RingHash and Maglev services hash on, so one client keeps reaching one endpoint. */
  hashOn?: { header: string } | { cookie: string } | { queryParameter: string } | { sourceIp: true };
  /** Per-route settings of the listener's HTTP filters, by filter name (http-filter-spec.ts). */
  filters?: Record<string, FilterOverride>;
}

export interface RouteSpec {
  /** The HTTP or HTTPS listeners this route table attaches to, as written (indexes match field paths). */
  listeners: string[];
  domains: string[];
  /** Matched in the order written: Envoy takes the first route that matches. */
  routes: RouteRule[];
  /** Header changes for every rule of this table (the virtual host). */
  headers: HeaderModifiers;
}

export function validateRoute(spec: Record<string, unknown>, r: SpecReader): RouteSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const listeners = r.stringList(rec, "listeners", path, { required: true, minItems: 1 }) ?? [];
  const dupListener = listeners.find((l, i) => listeners.indexOf(l) !== i);
  if (dupListener !== undefined) r.error([...path, "listeners"], "schema.duplicate", `listener '${dupListener}' is listed twice`, "list each listener once");
  const domains = r.stringList(rec, "domains", path) ?? ["*"];
  (rec["domains"] === undefined ? [] : domains).forEach((d, i) => {
    // Envoy allows one wildcard, at the start or the end (route_components.proto, VirtualHost.domains).
    const star = d.indexOf("*");
    if (d !== "*" && star >= 0 && (d.indexOf("*", star + 1) >= 0 || (star !== 0 && star !== d.length - 1))) {
      r.error([...path, "domains", i], "route.domain_wildcard", `domain '${d}' has a wildcard in the middle`, 'use "*" alone, a prefix wildcard ("*.example.com") or a suffix wildcard ("example.*")');
    }
  });
  if (new Set(domains).size !== domains.length) {
    const dup = domains.find((d, i) => domains.indexOf(d) !== i) ?? "";
    r.error([...path, "domains"], "route.duplicate_domain", `domain '${dup}' is listed twice`, "list each domain once");
  }
  const items = r.list(rec, "routes", path, { required: true, minItems: 1 }) ?? [];
  const routes: RouteRule[] = [];
  items.forEach((item, i) => {
    const rule = readRule(item, [...path, "routes", i], r);
    if (rule !== undefined) routes.push(rule);
  });
  const headers = readHeaderModifiers(rec, path, r);
  if (r.failed) return undefined;
  return { listeners, domains, routes, headers };
}

// Fields that only make sense when the rule proxies to backends (not for redirect or directResponse).
const proxyFields = ["hostRewrite", "prefixRewrite", "regexRewrite", "timeout", "retries", "hashOn", "mirror", "upgrades"];
const actionFields = ["backends", "redirect", "directResponse"] as const;
// filters: per-route filter settings apply to every rule, a redirect or direct response too (CORS, rate limits).
const ruleFields = schemaFields(routeSchema, "routes", "[]");

function readRule(value: unknown, path: PathSegment[], r: SpecReader): RouteRule | undefined {
  const rec = r.mapping(value, path, ruleFields);
  if (rec === undefined) return undefined;
  const match = readMatch(rec["match"], [...path, "match"], r);
  const actions = actionFields.filter((k) => rec[k] !== undefined);
  if (actions.length !== 1) {
    r.error(
      actions.length === 0 ? [...path, "backends"] : [...path, actions[1] ?? "redirect"],
      actions.length === 0 ? "schema.required" : "route.action_conflict",
      actions.length === 0 ? "a route needs backends, redirect or directResponse" : `a route has either backends, redirect or directResponse, this one has ${actions.join(" and ")}`,
      actions.length === 0 ? "add backends (the Services to proxy to), redirect, or directResponse" : "keep exactly one of backends, redirect or directResponse",
    );
  }
  if (actions[0] !== undefined && actions[0] !== "backends") {
    for (const f of proxyFields.filter((k) => rec[k] !== undefined)) {
      r.error([...path, f], "route.proxy_only", `${f} only applies to a route with backends, this one has ${actions[0]}`, `remove ${f}, or proxy with backends instead of ${actions[0]}`);
    }
  }
  const redirect = rec["redirect"] === undefined ? undefined : readRedirect(rec["redirect"], [...path, "redirect"], r);
  const directResponse = rec["directResponse"] === undefined ? undefined : readDirectResponse(rec["directResponse"], [...path, "directResponse"], r);
  const regexRewrite = rec["regexRewrite"] === undefined ? undefined : readRegexRewrite(rec["regexRewrite"], [...path, "regexRewrite"], r);
  const mirror = readMirrors(rec, path, r).sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  const upgrades = rec["upgrades"] === undefined ? undefined : readUpgradeSwitches(rec, path, r);
  const headers = readHeaderModifiers(rec, path, r);
  const backends: Backend[] = [];
  const items = rec["backends"] === undefined ? [] : (r.list(rec, "backends", path, { minItems: 1 }) ?? []);
  items.forEach((item, j) => {
    const bp = [...path, "backends", j];
    const b = r.mapping(item, bp, backendFields);
    if (b === undefined) return;
    const service = r.string(b, "service", bp, { required: true });
    const weight = r.integer(b, "weight", bp, { min: 0, max: 1_000_000 }) ?? (items.length === 1 ? 1 : undefined);
    if (weight === undefined && items.length > 1) {
      r.error([...bp, "weight"], "schema.required", "weight is required when a route has several backends", "give every backend a weight, e.g. 90 and 10 for a 10% canary");
    }
    if (service !== undefined && weight !== undefined) backends.push({ service, weight });
  });
  if (backends.length === items.length && items.length > 0 && backends.every((b) => b.weight === 0)) {
    r.error([...path, "backends", 0, "weight"], "route.zero_weight", "every backend has weight 0, so no request could be sent anywhere", "give at least one backend a weight above 0");
  }
  const dupBackend = backends.find((b, j) => backends.findIndex((o) => o.service === b.service) !== j);
  if (dupBackend !== undefined) {
    r.error([...path, "backends"], "route.duplicate_backend", `service '${dupBackend.service}' is listed twice in backends`, "list each service once and add up its weights");
  }
  const hostRewrite = r.string(rec, "hostRewrite", path);
  const prefixRewrite = r.string(rec, "prefixRewrite", path);
  const timeoutMs = r.duration(rec, "timeout", path);
  const retries = rec["retries"] === undefined ? undefined : readRetryPolicy(rec["retries"], [...path, "retries"], r);
  let decorator: string | undefined;
  if (rec["decorator"] !== undefined) {
    const d = r.mapping(rec["decorator"], [...path, "decorator"], decoratorFields);
    if (d !== undefined) decorator = r.string(d, "operation", [...path, "decorator"], { required: true });
  }
  const hashOn = rec["hashOn"] === undefined ? undefined : readHashOn(rec["hashOn"], [...path, "hashOn"], r);
  const filters = rec["filters"] === undefined ? undefined : readFilterOverrides(rec["filters"], [...path, "filters"], r);
  if (match === undefined) return undefined;
  const rule: RouteRule = { match, backends };
  if (filters !== undefined && Object.keys(filters).length > 0) rule.filters = filters;
  if (hashOn !== undefined) rule.hashOn = hashOn;
  if (hostRewrite !== undefined) rule.hostRewrite = hostRewrite;
  if (redirect !== undefined) rule.redirect = redirect;
  if (directResponse !== undefined) rule.directResponse = directResponse;
  if (regexRewrite !== undefined) rule.regexRewrite = regexRewrite;
  if (mirror.length > 0) rule.mirror = mirror;
  if (upgrades !== undefined) rule.upgrades = upgrades;
  if (headers.request !== undefined || headers.response !== undefined) rule.headers = headers;
  if (redirect?.prefix !== undefined && match.path.kind !== "prefix") {
    r.error([...path, "redirect", "prefix"], "route.prefix_rewrite", `redirect.prefix needs a prefix match, this route matches by ${match.path.kind}`, "match with prefix: or use redirect.path");
  }
  if (prefixRewrite !== undefined && regexRewrite !== undefined) {
    r.error([...path, "regexRewrite"], "route.rewrite_conflict", "a route has both prefixRewrite and regexRewrite", "keep one of prefixRewrite or regexRewrite");
  }
  if (prefixRewrite !== undefined) {
    if (match.path.kind !== "prefix") {
      r.error([...path, "prefixRewrite"], "route.prefix_rewrite", `prefixRewrite needs a prefix match, this route matches by ${match.path.kind}`, "match with prefix: or remove prefixRewrite");
    }
    rule.prefixRewrite = prefixRewrite;
  }
  if (timeoutMs !== undefined) rule.timeoutMs = timeoutMs;
  if (retries !== undefined) rule.retries = retries;
  if (decorator !== undefined) rule.decorator = decorator;
  return rule;
}

function readMatch(value: unknown, path: PathSegment[], r: SpecReader): RouteRule["match"] | undefined {
  if (value === undefined) {
    r.error(path, "schema.required", "match is required", 'set match.prefix: "/" to match every request');
    return undefined;
  }
  const rec = r.mapping(value, path, matchFields);
  if (rec === undefined) return undefined;
  const given = (["prefix", "path", "regex"] as const).filter((k) => rec[k] !== undefined);
  if (given.length !== 1) {
    r.error(
      given.length === 0 ? [...path, "prefix"] : [...path, given[1] ?? "path"],
      given.length === 0 ? "schema.required" : "route.match_conflict",
      given.length === 0 ? "match needs one of prefix, path or regex" : `match has both ${given[0]} and ${given[1]}`,
      given.length === 0 ? 'set match.prefix: "/" to match every request' : "keep exactly one of prefix, path or regex",
    );
    return undefined;
  }
  const kindField = given[0] ?? "prefix";
  const text = r.string(rec, kindField, path, { required: true });
  if (text === undefined) return undefined;
  if (kindField !== "regex" && !text.startsWith("/")) {
    r.error([...path, kindField], "route.path_slash", `${kindField} '${text}' does not start with /`, `write it as '/${text}'`);
  }
  if (kindField === "regex") {
    const problem = checkRe2(text);
    if (problem !== undefined) r.error([...path, "regex"], "route.invalid_regex", `regex '${text}' is not valid RE2: ${problem}`, "fix the expression; Envoy uses RE2 syntax (no lookahead, lookbehind or backreferences)");
  }
  const headers: HeaderMatch[] = [];
  const items = r.list(rec, "headers", path) ?? [];
  items.forEach((item, i) => {
    const hp = [...path, "headers", i];
    const h = r.mapping(item, hp, matchHeaderFields);
    if (h === undefined) return;
    const name = r.string(h, "name", hp, { required: true });
    const kinds = (["exact", "prefix", "regex", "present"] as const).filter((k) => h[k] !== undefined);
    if (kinds.length !== 1) {
      r.error(hp, "route.header_match", `header match needs exactly one of exact, prefix, regex or present (has ${kinds.length})`, "keep exactly one of exact, prefix, regex or present: true");
      return;
    }
    const kind = kinds[0] ?? "exact";
    const invert = r.boolean(h, "invert", hp) ?? false;
    let v: string | undefined;
    if (kind === "present") {
      const present = r.boolean(h, "present", hp);
      if (present === false) r.error([...hp, "present"], "route.header_match", "present: false never matches as written", "use present: true with invert: true to match requests without the header");
      v = present === undefined ? undefined : "";
    } else {
      v = r.string(h, kind, hp, { required: true });
      if (kind === "regex" && v !== undefined) {
        const problem = checkRe2(v);
        if (problem !== undefined) r.error([...hp, "regex"], "route.invalid_regex", `regex '${v}' is not valid RE2: ${problem}`, "fix the expression; Envoy uses RE2 syntax (no lookahead, lookbehind or backreferences)");
      }
    }
    if (name !== undefined && v !== undefined) headers.push({ name: name.toLowerCase(), kind, value: v, invert });
  });
  return { path: { kind: kindField === "path" ? "exact" : kindField, value: text }, headers };
}

function readHashOn(value: unknown, path: PathSegment[], r: SpecReader): RouteRule["hashOn"] {
  const rec = r.mapping(value, path, hashOnFields);
  if (rec === undefined) return undefined;
  const given = (["header", "cookie", "queryParameter", "sourceIp"] as const).filter((k) => rec[k] !== undefined);
  if (given.length !== 1) {
    r.error(path, "route.hash_on", `hashOn needs exactly one of header, cookie, queryParameter or sourceIp (has ${given.length})`, "keep exactly one of header: <name>, cookie: <name>, queryParameter: <name> or sourceIp: true");
    return undefined;
  }
  if (given[0] === "sourceIp") {
    const v = r.boolean(rec, "sourceIp", path);
    if (v !== true) {
      if (v === false) r.error([...path, "sourceIp"], "route.hash_on", "sourceIp: false hashes on nothing", "use sourceIp: true, or remove hashOn");
      return undefined;
    }
    return { sourceIp: true };
  }
  const field = given[0] ?? "header";
  const name = r.string(rec, field, path);
  if (name === undefined) return undefined;
  if (field === "queryParameter") return { queryParameter: name };
  return field === "header" ? { header: name.toLowerCase() } : { cookie: name };
}
