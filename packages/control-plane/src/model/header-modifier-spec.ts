import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";
import { headerModifierProperties } from "./schema/header-modifier-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const modifierFields = Object.keys(headerModifierProperties);

/** Headers to add (append), set (overwrite) and remove, on requests or responses. */
export interface HeaderModifier {
  /** Appended: an existing header of that name keeps its value and gets another. */
  add: readonly { name: string; value: string }[];
  /** Overwritten: any existing value is replaced. */
  set: readonly { name: string; value: string }[];
  remove: readonly string[];
}

/** Request and response header modifiers of a listener, a route table or one rule. */
export interface HeaderModifiers {
  request?: HeaderModifier;
  response?: HeaderModifier;
}

// An HTTP token (RFC 9110, 5.6.2), lowercase: Envoy matches header names lowercase,
// so "X-Foo" in a config would silently never be removed.
const headerName = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Reads spec.requestHeaders / spec.responseHeaders (whichever are present) from rec. */
export function readHeaderModifiers(rec: Record<string, unknown>, path: readonly PathSegment[], r: SpecReader): HeaderModifiers {
  const out: HeaderModifiers = {};
  const request = readModifier(rec, "requestHeaders", path, r);
  const response = readModifier(rec, "responseHeaders", path, r);
  if (request !== undefined) out.request = request;
  if (response !== undefined) out.response = response;
  return out;
}

/** The field names readHeaderModifiers reads, for SpecReader.mapping's allowed list. */
export const headerModifierFields = ["requestHeaders", "responseHeaders"] as const;

function readModifier(parent: Record<string, unknown>, key: string, parentPath: readonly PathSegment[], r: SpecReader): HeaderModifier | undefined {
  if (parent[key] === undefined) return undefined;
  const path = [...parentPath, key];
  const rec = r.mapping(parent[key], path, modifierFields);
  if (rec === undefined) return undefined;
  const add = readPairs(rec, "add", path, r);
  const set = readPairs(rec, "set", path, r);
  const remove: string[] = [];
  (r.stringList(rec, "remove", path) ?? []).forEach((name, i) => {
    if (checkName(name, [...path, "remove", i], r)) remove.push(name);
  });
  const seen = new Map<string, string>();
  for (const [field, names] of [["set", set.map((p) => p.name)], ["remove", remove]] as const) {
    for (const n of names) {
      const other = seen.get(n);
      if (other !== undefined) r.error([...path, field], "route.header_conflict", `header '${n}' is in both ${other} and ${field}`, `keep '${n}' in one of ${other} or ${field}`);
      seen.set(n, field);
    }
  }
  return { add, set, remove };
}

function readPairs(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], r: SpecReader): { name: string; value: string }[] {
  const map = r.stringMap(rec, key, path);
  if (map === undefined) return [];
  const out: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(map)) {
    const p = [...path, key, name];
    if (!checkName(name, p, r)) continue;
    // Envoy refuses values with CR, LF or NUL (HTTP_HEADER_VALUE in protoc-gen-validate).
    if (/[\r\n\0]/.test(value)) {
      r.error(p, "route.header_value", `the value of header '${name}' has a line break or NUL`, "write the value on one line");
      continue;
    }
    out.push({ name, value });
  }
  // Sorted by name, so reordering the YAML is not a new version.
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkName(name: string, path: readonly PathSegment[], r: SpecReader): boolean {
  // Envoy refuses to modify pseudo-headers and host ("':-prefixed or host headers may not be modified").
  if (name.startsWith(":") || name === "host") {
    r.error(path, "route.header_not_modifiable", `header '${name}' cannot be added, set or removed`, name === "host" ? "use hostRewrite on the rule to change the host" : "pseudo-headers (':path', ':authority', ...) are not modifiable; use prefixRewrite, regexRewrite or hostRewrite");
    return false;
  }
  if (!headerName.test(name)) {
    const lower = name.toLowerCase();
    r.error(path, "route.header_name", `'${name}' is not a valid lowercase header name`, headerName.test(lower) ? `write it as '${lower}'` : "use letters, digits and - only (an HTTP token)");
    return false;
  }
  return true;
}
