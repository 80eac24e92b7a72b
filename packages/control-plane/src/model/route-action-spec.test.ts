import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic, ModelObject } from "./model-object.ts";
import type { ListenerSpec } from "./listener-spec.ts";
import type { RouteSpec } from "./route-spec.ts";
import { validateObject } from "./validate-object.ts";

// Route actions and modifiers (issue 8): every refusal names its field and a fix.

const obj = (kind: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name: "x" }, spec });
const route = (rule: Record<string, unknown>, spec: Record<string, unknown> = {}) => validateObject(obj("Route", { listeners: ["l"], routes: [{ match: { prefix: "/" }, ...rule }], ...spec }));
const errors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.severity === "error").map((d) => ({ code: d.code, path: d.path }));
const rule0 = (r: ReturnType<typeof route>) => (r.valid?.spec as RouteSpec | undefined)?.routes[0];
const web = [{ service: "web" }];

test("a rule has exactly one of backends, redirect or directResponse", () => {
  assert.deepEqual(errors(route({})), [{ code: "schema.required", path: "spec.routes[0].backends" }]);
  assert.deepEqual(errors(route({ backends: web, directResponse: { status: 200 } })), [{ code: "route.action_conflict", path: "spec.routes[0].directResponse" }]);
  const r = route({ redirect: { host: "example.com" }, timeout: "1s", mirror: [{ service: "s" }] });
  assert.deepEqual(errors(r), [
    { code: "route.proxy_only", path: "spec.routes[0].timeout" },
    { code: "route.proxy_only", path: "spec.routes[0].mirror" },
  ]);
  assert.match(r.diagnostics[0]?.hint ?? "", /remove timeout, or proxy with backends/);
});

test("redirects: Envoy's response codes only, a bare host, at least one change", () => {
  assert.deepEqual(rule0(route({ redirect: { prefix: "/new/" } }))?.redirect, { responseCode: 301, stripQuery: false, prefix: "/new/" });
  assert.deepEqual(errors(route({ redirect: { host: "a.example", responseCode: 305 } })), [{ code: "route.redirect_code", path: "spec.routes[0].redirect.responseCode" }]);
  assert.deepEqual(errors(route({ redirect: { host: "https://a.example/" } })), [{ code: "route.redirect_host", path: "spec.routes[0].redirect.host" }]);
  assert.deepEqual(errors(route({ redirect: { responseCode: 302 } })), [{ code: "route.redirect_empty", path: "spec.routes[0].redirect" }]);
  assert.deepEqual(errors(route({ redirect: { path: "/a", prefix: "/b" } })), [{ code: "route.redirect_path", path: "spec.routes[0].redirect.prefix" }]);
  assert.deepEqual(errors(validateObject(obj("Route", { listeners: ["l"], routes: [{ match: { path: "/a" }, redirect: { prefix: "/b" } }] }))), [
    { code: "route.prefix_rewrite", path: "spec.routes[0].redirect.prefix" },
  ]);
});

test("direct responses: status 200-599, body within Envoy's 4096-byte limit", () => {
  assert.deepEqual(rule0(route({ directResponse: { status: 204 } }))?.directResponse, { status: 204 });
  assert.deepEqual(errors(route({ directResponse: { status: 101 } })), [{ code: "schema.range", path: "spec.routes[0].directResponse.status" }]);
  assert.deepEqual(errors(route({ directResponse: { status: 200, body: "x".repeat(4097) } })), [{ code: "route.body_too_large", path: "spec.routes[0].directResponse.body" }]);
});

test("header modifiers: lowercase token names, no pseudo-headers or host, one line values, set and remove disjoint", () => {
  const ok = route({ backends: web, requestHeaders: { add: { "x-b": "2", "x-a": "1" }, remove: ["x-c"] } }, { responseHeaders: { set: { "x-d": "4" } } });
  assert.deepEqual(rule0(ok)?.headers, { request: { add: [{ name: "x-a", value: "1" }, { name: "x-b", value: "2" }], set: [], remove: ["x-c"] } });
  assert.deepEqual((ok.valid?.spec as RouteSpec | undefined)?.headers.response?.set, [{ name: "x-d", value: "4" }]);
  const bad = route({ backends: web, requestHeaders: { add: { "X-Up": "1", ":path": "/x", "x-nl": "a\nb" }, set: { "x-s": "1" }, remove: ["host", "x-s"] } });
  assert.deepEqual(errors(bad), [
    { code: "route.header_name", path: "spec.routes[0].requestHeaders.add.X-Up" },
    { code: "route.header_not_modifiable", path: 'spec.routes[0].requestHeaders.add[":path"]' },
    { code: "route.header_value", path: "spec.routes[0].requestHeaders.add.x-nl" },
    { code: "route.header_not_modifiable", path: "spec.routes[0].requestHeaders.remove[0]" },
    { code: "route.header_conflict", path: "spec.routes[0].requestHeaders.remove" },
  ]);
  assert.match(bad.diagnostics[0]?.hint ?? "", /write it as 'x-up'/);
  assert.match(bad.diagnostics[3]?.hint ?? "", /hostRewrite/);
});

test("regexRewrite is RE2-checked and excludes prefixRewrite; mirrors list each service once", () => {
  assert.deepEqual(errors(route({ backends: web, regexRewrite: { pattern: "(?=x)", substitution: "" } })), [{ code: "route.invalid_regex", path: "spec.routes[0].regexRewrite.pattern" }]);
  assert.deepEqual(errors(route({ backends: web, prefixRewrite: "/", regexRewrite: { pattern: "^/a", substitution: "/" } })), [{ code: "route.rewrite_conflict", path: "spec.routes[0].regexRewrite" }]);
  assert.deepEqual(rule0(route({ backends: web, mirror: [{ service: "b", percent: 5 }, { service: "a" }] }))?.mirror, [{ service: "a", percent: 100 }, { service: "b", percent: 5 }]);
  assert.deepEqual(errors(route({ backends: web, mirror: [{ service: "a" }, { service: "a" }] })), [{ code: "route.duplicate_mirror", path: "spec.routes[0].mirror[1].service" }]);
  assert.deepEqual(errors(route({ backends: web, mirror: [{ service: "a", percent: 101 }] })), [{ code: "schema.range", path: "spec.routes[0].mirror[0].percent" }]);
});

test("retries: known conditions (string or list), retriable status codes, back-off", () => {
  const r = rule0(route({ backends: web, retries: { retryOn: ["5xx"], retriableStatusCodes: [503, 429, 503], backOff: { baseInterval: "25ms" } } }));
  assert.deepEqual(r?.retries, { attempts: 1, retryOn: ["5xx", "retriable-status-codes"], retriableStatusCodes: [429, 503], backOff: { baseMs: 25 } });
  assert.deepEqual(rule0(route({ backends: web, retries: { retryOn: "5xx, reset" } }))?.retries?.retryOn, ["5xx", "reset"]);
  const typo = route({ backends: web, retries: { retryOn: ["5xx", "conect-failure"] } });
  assert.deepEqual(errors(typo), [{ code: "route.retry_on", path: "spec.routes[0].retries.retryOn[1]" }]);
  assert.match(typo.diagnostics[0]?.hint ?? "", /did you mean 'connect-failure'/);
  assert.deepEqual(errors(route({ backends: web, retries: { backOff: { baseInterval: "1s", maxInterval: "100ms" } } })), [{ code: "route.retry_back_off", path: "spec.routes[0].retries.backOff.maxInterval" }]);
  assert.deepEqual(errors(route({ backends: web, retries: { retriableStatusCodes: [99] } })), [{ code: "schema.range", path: "spec.routes[0].retries.retriableStatusCodes[0]" }]);
});

test("hashOn queryParameter; upgrades per rule and per HTTP listener", () => {
  assert.deepEqual(rule0(route({ backends: web, hashOn: { queryParameter: "user" } }))?.hashOn, { queryParameter: "user" });
  assert.deepEqual(rule0(route({ backends: web, upgrades: { websocket: false } }))?.upgrades, { websocket: false });
  assert.deepEqual(errors(route({ backends: web, upgrades: ["websocket"] })), [{ code: "schema.type", path: "spec.routes[0].upgrades" }]);
  const l = validateObject(obj("Listener", { protocol: "HTTP", port: 80, upgrades: ["websocket"], requestHeaders: { add: { "x-via": "edge" } } }));
  assert.deepEqual((l.valid?.spec as ListenerSpec | undefined)?.upgrades, ["websocket"]);
  assert.deepEqual(errors(validateObject(obj("Listener", { protocol: "TCP", port: 80, service: "s", upgrades: ["websocket"] }))), [{ code: "listener.http_only", path: "spec.upgrades" }]);
  assert.deepEqual(errors(validateObject(obj("Listener", { protocol: "HTTP", port: 80, upgrades: ["Web Socket"] }))), [{ code: "listener.upgrade_name", path: "spec.upgrades[0]" }]);
});
