import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION, type Kind } from "../kinds.ts";
import { validateObject } from "../validate-object.ts";
import { type JsonSchema, schemaFields } from "./json-schema.ts";
import { modelSchema } from "./model-schema.ts";

// The enums of the editor schema are still written beside the readers' value lists
// (packages/control-plane/schema/README.md): this keeps the two equal, one case per
// enum, by asking validation about every value the schema lists and one it does not.
interface EnumCase {
  kind: Kind;
  /** Where the enum sits in $defs: a $def name, then property names ("[]" for items). */
  at: [string, ...string[]];
  spec: (value: string) => Record<string, unknown>;
  path: string;
}

const http = (filter: Record<string, unknown>) => ({ protocol: "HTTP", port: 8080, httpFilters: [{ name: "f", ...filter }] });
const cases: EnumCase[] = [
  { kind: "Listener", at: ["Listener", "protocol"], spec: (v) => ({ protocol: v, port: 8080 }), path: "spec.protocol" },
  { kind: "Listener", at: ["Listener", "tls", "clientCertificate"], spec: (v) => ({ protocol: "HTTPS", port: 8443, tls: { secret: "s", clientCertificate: v } }), path: "spec.tls.clientCertificate" },
  { kind: "Listener", at: ["Listener", "tls", "minVersion"], spec: (v) => ({ protocol: "HTTPS", port: 8443, tls: { secret: "s", minVersion: v } }), path: "spec.tls.minVersion" },
  { kind: "Route", at: ["Route", "routes", "[]", "redirect", "scheme"], spec: (v) => ({ listeners: ["l"], routes: [{ match: { prefix: "/" }, redirect: { scheme: v } }] }), path: "spec.routes[0].redirect.scheme" },
  { kind: "Service", at: ["Service", "discovery"], spec: (v) => ({ discovery: v }), path: "spec.discovery" },
  { kind: "Service", at: ["Service", "lbPolicy"], spec: (v) => ({ lbPolicy: v }), path: "spec.lbPolicy" },
  { kind: "Service", at: ["Service", "protocol"], spec: (v) => ({ protocol: v }), path: "spec.protocol" },
  { kind: "Service", at: ["Service", "dnsLookupFamily"], spec: (v) => ({ dnsLookupFamily: v }), path: "spec.dnsLookupFamily" },
  { kind: "Service", at: ["Service", "healthCheck", "type"], spec: (v) => ({ healthCheck: { type: v } }), path: "spec.healthCheck.type" },
  { kind: "Tracing", at: ["Tracing", "zipkin", "version"], spec: (v) => ({ zipkin: { service: "z", version: v } }), path: "spec.zipkin.version" },
  { kind: "AccessLog", at: ["AccessLog", "type"], spec: (v) => ({ type: v, path: "/dev/stdout" }), path: "spec.type" },
  { kind: "Listener", at: ["HttpFilter", "type"], spec: (v) => http({ type: v }), path: "spec.httpFilters[0].type" },
  { kind: "Listener", at: ["HttpFilter", "action"], spec: (v) => http({ type: "rbac", action: v }), path: "spec.httpFilters[0].action" },
  { kind: "Listener", at: ["HttpFilter", "algorithm"], spec: (v) => http({ type: "compression", algorithm: v }), path: "spec.httpFilters[0].algorithm" },
  { kind: "Listener", at: ["HttpFilter", "protocol"], spec: (v) => http({ type: "extAuthz", service: "a", protocol: v }), path: "spec.httpFilters[0].protocol" },
];

function enumAt([def, ...path]: EnumCase["at"]): string[] {
  let node: JsonSchema | undefined = modelSchema.$defs[def];
  for (const p of path) node = p === "[]" ? node?.items : node?.properties?.[p];
  assert.ok(node?.enum !== undefined, `no enum at ${[def, ...path].join(".")}`);
  return node.enum.map(String);
}

const enumErrorsAt = (c: EnumCase, value: string): number =>
  validateObject({ apiVersion: API_VERSION, kind: c.kind, metadata: { name: "probe" }, spec: c.spec(value) }).diagnostics.filter(
    (d) => d.code === "schema.enum" && d.path === c.path,
  ).length;

test("every string enum of the schema is what validation accepts: each listed value passes, another is refused at its path", () => {
  for (const c of cases) {
    for (const value of enumAt(c.at)) assert.equal(enumErrorsAt(c, value), 0, `${c.at.join(".")}: the schema lists '${value}' but validation refuses it`);
    assert.equal(enumErrorsAt(c, "NotAValue"), 1, `${c.at.join(".")}: validation did not refuse a value outside the schema's enum`);
  }
});

test("the cases above cover every string enum of the kinds' specs and filter entries", () => {
  const found: string[] = [];
  const walk = (node: JsonSchema, at: string[]): void => {
    if (node.enum?.every((v) => typeof v === "string") === true) found.push(at.join("."));
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, [...at, k]);
    if (node.items !== undefined) walk(node.items, [...at, "[]"]);
  };
  for (const [def, s] of Object.entries(modelSchema.$defs)) if (def !== "FilterOverride" && def !== "RawResource") walk(s, [def]);
  assert.deepEqual(found.sort(), cases.map((c) => c.at.join(".")).sort());
  // FilterOverride takes its enums from the HttpFilter entry (filter-override-schema.ts); RawResource's @type is the xDS registry's.
  assert.ok(schemaFields(modelSchema.$defs["FilterOverride"] ?? {}).includes("type"));
});
