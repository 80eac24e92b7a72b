import { isIP } from "node:net";
import type { PathSegment } from "./field-path.ts";
import type { HttpFilterConfig, RbacConfig, RbacHeaderPrincipal, RbacJwtClaim } from "./http-filter-spec.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { httpFilterSchema } from "./schema/http-filter-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const headerFields = schemaFields(httpFilterSchema, "headers", "[]");
const claimFields = schemaFields(httpFilterSchema, "jwtClaims", "[]");

/** The fields of an rbac filter (listener entry or route override): action and principals. */
export function readRbac(rec: Record<string, unknown>, path: readonly PathSegment[], r: SpecReader): HttpFilterConfig | undefined {
  const action = r.enumeration(rec, "action", path, ["Allow", "Deny"] as const, { required: true });
  const cidrs = r.stringList(rec, "sourceCidrs", path) ?? [];
  const sourceCidrs: RbacConfig["sourceCidrs"] = [];
  cidrs.forEach((c, i) => {
    const [address = "", len] = c.split("/");
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefixLen = len === undefined ? max : Number(len);
    if (family === 0 || !Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max || (len !== undefined && !/^\d+$/.test(len))) {
      r.error([...path, "sourceCidrs", i], "filter.cidr", `'${c}' is not an address or CIDR range`, "write an IP address (10.0.0.1) or a CIDR range (10.0.0.0/8, 2001:db8::/32)");
      return;
    }
    sourceCidrs.push({ address, prefixLen });
  });
  const headers: RbacHeaderPrincipal[] = [];
  (r.list(rec, "headers", path) ?? []).forEach((item, i) => {
    const hp = [...path, "headers", i];
    const h = r.mapping(item, hp, headerFields);
    if (h === undefined) return;
    const name = r.string(h, "name", hp, { required: true });
    const kinds = (["exact", "prefix", "present"] as const).filter((k) => h[k] !== undefined);
    if (kinds.length !== 1) {
      r.error(hp, "filter.header_match", `a header principal needs exactly one of exact, prefix or present (has ${kinds.length})`, "keep exactly one of exact, prefix or present: true");
      return;
    }
    const kind = kinds[0] ?? "exact";
    const v = kind === "present" ? (r.boolean(h, "present", hp) === true ? "" : undefined) : r.string(h, kind, hp, { required: true });
    if (kind === "present" && v === undefined) r.error([...hp, "present"], "filter.header_match", "present must be true", "write present: true");
    if (name !== undefined && v !== undefined) headers.push({ name: name.toLowerCase(), kind, value: v });
  });
  const jwtClaims: RbacJwtClaim[] = [];
  (r.list(rec, "jwtClaims", path) ?? []).forEach((item, i) => {
    const cp = [...path, "jwtClaims", i];
    const c = r.mapping(item, cp, claimFields);
    if (c === undefined) return;
    const provider = r.string(c, "provider", cp, { required: true });
    const claim = r.string(c, "claim", cp, { required: true });
    const kinds = (["exact", "prefix"] as const).filter((k) => c[k] !== undefined);
    if (kinds.length !== 1) {
      r.error(cp, "filter.claim_match", `a claim principal needs exactly one of exact or prefix (has ${kinds.length})`, "keep exactly one of exact or prefix");
      return;
    }
    const kind = kinds[0] ?? "exact";
    const value = r.string(c, kind, cp, { required: true });
    if (provider !== undefined && claim !== undefined && value !== undefined) jwtClaims.push({ provider, claim, kind, value });
  });
  if (rec["sourceCidrs"] === undefined && rec["headers"] === undefined && rec["jwtClaims"] === undefined) {
    r.error([...path, "sourceCidrs"], "schema.required", "an rbac filter needs sourceCidrs, headers or jwtClaims", "list the source ranges (sourceCidrs), headers (headers) or token claims (jwtClaims) the action applies to");
  }
  if (action === undefined) return undefined;
  return { type: "rbac", rbac: { action, sourceCidrs, headers, jwtClaims } };
}
