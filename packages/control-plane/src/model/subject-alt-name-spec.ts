import { isIP } from "node:net";
import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";

export const subjectAltNameTypes = ["DNS", "URI", "IP", "EMAIL"] as const;
export type SubjectAltNameType = (typeof subjectAltNameTypes)[number];

/** A subject alternative name a peer certificate must carry, matched exactly. */
export interface SubjectAltName {
  type: SubjectAltNameType;
  value: string;
}

const checks: Record<SubjectAltNameType, { ok: (v: string) => boolean; example: string }> = {
  // A leading "*." is allowed: Envoy matches a DNS SAN pattern against wildcard certificates.
  DNS: { ok: (v) => /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(v), example: "DNS:backend.internal" },
  URI: { ok: (v) => URL.canParse(v), example: "URI:spiffe://example.org/ns/default/sa/backend" },
  IP: { ok: (v) => isIP(v) !== 0, example: "IP:10.0.0.7" },
  EMAIL: { ok: (v) => /^[^@\s]+@[^@\s]+$/.test(v), example: "EMAIL:ops@example.org" },
};

/**
 * `subjectAltNames: ["DNS:backend.internal", "URI:spiffe://..."]`: the TYPE:value form of
 * openssl's subjectAltName, so what is written here reads like what was put in the certificate.
 */
export function readSubjectAltNames(rec: Record<string, unknown>, key: string, path: PathSegment[], r: SpecReader): SubjectAltName[] | undefined {
  const items = r.stringList(rec, key, path, { minItems: 1 });
  if (items === undefined) return undefined;
  const out: SubjectAltName[] = [];
  items.forEach((item, i) => {
    const colon = item.indexOf(":");
    const type = item.slice(0, colon).toUpperCase();
    const value = item.slice(colon + 1);
    const check = (subjectAltNameTypes as readonly string[]).includes(type) ? checks[type as SubjectAltNameType] : undefined;
    if (colon < 0 || check === undefined) {
      r.error([...path, key, i], "tls.invalid_san", `'${item}' does not start with a SAN type`, `write TYPE:value with TYPE one of ${subjectAltNameTypes.join(", ")}, e.g. ${checks.DNS.example}`);
    } else if (!check.ok(value)) {
      r.error([...path, key, i], "tls.invalid_san", `'${value}' is not a valid ${type} name`, `write it like ${check.example}`);
    } else out.push({ type: type as SubjectAltNameType, value });
  });
  return out;
}
