import type { PathSegment } from "./field-path.ts";
import { checkRe2 } from "./re2-check.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { routeSchema } from "./schema/route-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const redirectFields = schemaFields(routeSchema, "routes", "[]", "redirect");
const directResponseFields = schemaFields(routeSchema, "routes", "[]", "directResponse");
const regexRewriteFields = schemaFields(routeSchema, "routes", "[]", "regexRewrite");
const mirrorFields = schemaFields(routeSchema, "routes", "[]", "mirror", "[]");

/** The status codes Envoy can send for a redirect (RedirectAction.RedirectResponseCode). */
export const redirectCodes = [301, 302, 303, 307, 308] as const;
export type RedirectCode = (typeof redirectCodes)[number];

/** Answer with a redirect instead of proxying; unset parts keep the request's own. */
export interface RedirectSpec {
  scheme?: "http" | "https";
  host?: string;
  port?: number;
  /** Replaces the whole path. */
  path?: string;
  /** Replaces the matched prefix (needs a prefix match). */
  prefix?: string;
  responseCode: RedirectCode;
  stripQuery: boolean;
}

/** Answer directly, without any upstream. */
export interface DirectResponseSpec {
  status: number;
  body?: string;
}

/** Envoy's default max_direct_response_body_size_bytes (route.proto): a larger body is NACKed. */
export const maxDirectResponseBodyBytes = 4096;

export function readRedirect(value: unknown, path: PathSegment[], r: SpecReader): RedirectSpec | undefined {
  const rec = r.mapping(value, path, redirectFields);
  if (rec === undefined) return undefined;
  const scheme = r.enumeration(rec, "scheme", path, ["http", "https"] as const);
  const host = r.string(rec, "host", path);
  if (host !== undefined && /[/\s:]/.test(host)) r.error([...path, "host"], "route.redirect_host", `host '${host}' must be a bare host name`, "write the host alone (no scheme, port or path); use port: for the port");
  const port = r.integer(rec, "port", path, { min: 1, max: 65535 });
  const newPath = r.string(rec, "path", path);
  const prefix = r.string(rec, "prefix", path);
  for (const [k, v] of [["path", newPath], ["prefix", prefix]] as const) {
    if (v !== undefined && !v.startsWith("/")) r.error([...path, k], "route.path_slash", `${k} '${v}' does not start with /`, `write it as '/${v}'`);
  }
  if (newPath !== undefined && prefix !== undefined) r.error([...path, "prefix"], "route.redirect_path", "redirect has both path and prefix", "keep path (replace the whole path) or prefix (replace the matched prefix), not both");
  const code = rec["responseCode"] === undefined ? 301 : r.integer(rec, "responseCode", path, { min: 100, max: 599 });
  if (code !== undefined && !(redirectCodes as readonly number[]).includes(code)) {
    r.error([...path, "responseCode"], "route.redirect_code", `responseCode ${code} is not a redirect Envoy can send`, `use one of ${redirectCodes.join(", ")}`);
  }
  const stripQuery = r.boolean(rec, "stripQuery", path) ?? false;
  if (scheme === undefined && host === undefined && port === undefined && newPath === undefined && prefix === undefined && rec["scheme"] === undefined) {
    r.error(path, "route.redirect_empty", "redirect changes nothing, so clients would loop", "set at least one of scheme, host, port, path or prefix");
  }
  if (code === undefined || !(redirectCodes as readonly number[]).includes(code)) return undefined;
  const out: RedirectSpec = { responseCode: code as RedirectCode, stripQuery };
  if (scheme !== undefined) out.scheme = scheme;
  if (host !== undefined) out.host = host;
  if (port !== undefined) out.port = port;
  if (newPath !== undefined) out.path = newPath;
  if (prefix !== undefined) out.prefix = prefix;
  return out;
}

export function readDirectResponse(value: unknown, path: PathSegment[], r: SpecReader): DirectResponseSpec | undefined {
  const rec = r.mapping(value, path, directResponseFields);
  if (rec === undefined) return undefined;
  const status = r.integer(rec, "status", path, { required: true, min: 200, max: 599 });
  const body = r.string(rec, "body", path, { nonEmpty: false });
  if (body !== undefined && Buffer.byteLength(body) > maxDirectResponseBodyBytes) {
    r.error([...path, "body"], "route.body_too_large", `body is ${Buffer.byteLength(body)} bytes, more than Envoy's limit of ${maxDirectResponseBodyBytes}`, "shorten the body, or serve it from a Service");
  }
  if (status === undefined) return undefined;
  return body === undefined ? { status } : { status, body };
}

/** Rewrites the path with an RE2 pattern before forwarding (\1 in substitution is a capture group). */
export interface RegexRewriteSpec {
  pattern: string;
  substitution: string;
}

export function readRegexRewrite(value: unknown, path: PathSegment[], r: SpecReader): RegexRewriteSpec | undefined {
  const rec = r.mapping(value, path, regexRewriteFields);
  if (rec === undefined) return undefined;
  const pattern = r.string(rec, "pattern", path, { required: true });
  const substitution = r.string(rec, "substitution", path, { required: true, nonEmpty: false });
  if (pattern !== undefined) {
    const problem = checkRe2(pattern);
    if (problem !== undefined) {
      r.error([...path, "pattern"], "route.invalid_regex", `pattern '${pattern}' is not valid RE2: ${problem}`, "fix the expression; Envoy uses RE2 syntax (no lookahead, lookbehind or backreferences)");
      return undefined;
    }
  }
  return pattern === undefined || substitution === undefined ? undefined : { pattern, substitution };
}

/** Copies requests to a shadow Service (responses from it are ignored). */
export interface MirrorSpec {
  service: string;
  /** Share of requests copied, 0..100. */
  percent: number;
}

export function readMirrors(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): MirrorSpec[] {
  const items = r.list(rec, "mirror", path) ?? [];
  const out: MirrorSpec[] = [];
  items.forEach((item, i) => {
    const mp = [...path, "mirror", i];
    const m = r.mapping(item, mp, mirrorFields);
    if (m === undefined) return;
    const service = r.string(m, "service", mp, { required: true });
    const percent = m["percent"] === undefined ? 100 : r.integer(m, "percent", mp, { min: 0, max: 100 });
    if (service !== undefined && out.some((o) => o.service === service)) {
      r.error([...mp, "service"], "route.duplicate_mirror", `service '${service}' is mirrored twice`, "mirror each service once");
      return;
    }
    if (service !== undefined && percent !== undefined) out.push({ service, percent });
  });
  return out;
}

// Upgrade types are HTTP tokens (the Upgrade header's value), compared case-insensitively by Envoy.
const upgradeName = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Listener level: the upgrades (Upgrade: header values) the listener lets through, e.g. websocket. */
export function readUpgradeList(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): string[] {
  const names = r.stringList(rec, "upgrades", path) ?? [];
  names.forEach((n, i) => {
    if (!upgradeName.test(n)) r.error([...path, "upgrades", i], "listener.upgrade_name", `'${n}' is not an upgrade type`, "write the Upgrade header's value in lowercase, e.g. websocket");
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) r.error([...path, "upgrades"], "schema.duplicate", `upgrade '${dup}' is listed twice`, "list each upgrade once");
  return [...new Set(names)].sort();
}

/** Route level: turn an upgrade on (even if the listener does not allow it) or off for this rule. */
export function readUpgradeSwitches(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): Record<string, boolean> {
  const up = [...path, "upgrades"];
  const v = rec["upgrades"];
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    r.error(up, "schema.type", "upgrades must be a mapping of upgrade type to true or false", "write e.g. upgrades: { websocket: true }");
    return {};
  }
  const out: Record<string, boolean> = {};
  for (const name of Object.keys(v).sort()) {
    if (!upgradeName.test(name)) {
      r.error([...up, name], "route.upgrade_name", `'${name}' is not an upgrade type`, "write the Upgrade header's value in lowercase, e.g. websocket");
      continue;
    }
    const on = r.boolean(v as Record<string, unknown>, name, up);
    if (on !== undefined) out[name] = on;
  }
  return out;
}
