import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "./compile.ts";
import { resourceToJson } from "./envoy/resource-json.ts";
import type { ModelObject } from "./model/model-object.ts";

type JsonRecord = Record<string, unknown>;
/** The generated resources of the only group as plain JSON objects. */
const resources = (r: ReturnType<typeof compile>): JsonRecord[] => (r.groups[0]?.resources ?? []).map((m) => resourceToJson(m) as JsonRecord);

// HTTP filters (issue 8): the list on the listener, the overrides on routes, and the
// diagnostics an operator gets for each mistake, each with its path and fix.

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const service = o("Service", "web", { endpoints: [{ address: "127.0.0.1", port: 8081 }] });
const listener = (httpFilters: unknown[], name = "l", port = 10000): ModelObject => o("Listener", name, { protocol: "HTTP", port, httpFilters });
const route = (filters: Record<string, unknown>, listeners = ["l"]): ModelObject =>
  o("Route", "r", { listeners, routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }], filters }] });
const limit = { name: "limit", type: "localRateLimit", tokens: 2, fillInterval: "1s" };

function errors(objects: ModelObject[]): { code: string; object: string | undefined; path: string | undefined; hint: string | undefined }[] {
  return compile(objects)
    .diagnostics.filter((d) => d.severity === "error")
    .map(({ code, object, path, hint }) => ({ code, object, path, hint }));
}

function httpFilterNames(objects: ModelObject[]): string[] {
  const r = compile(objects);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  const listenerJson = resources(r).find((j) => Array.isArray(j["filter_chains"])) ?? {};
  const hcm = (listenerJson["filter_chains"] as { filters: { typed_config: { http_filters: { name: string }[] } }[] }[])[0]?.filters[0]?.typed_config;
  return hcm?.http_filters.map((f) => f.name) ?? [];
}

test("filters keep the order written and the router is appended last", () => {
  const objects = [service, listener([{ name: "b", type: "fault", abort: { status: 503, percent: 0 } }, limit, { name: "a", type: "compression" }]), route({})];
  assert.deepEqual(httpFilterNames(objects), ["b", "limit", "a", "envoy.filters.http.router"]);
  assert.deepEqual(httpFilterNames([service, o("Listener", "l", { protocol: "HTTP", port: 10000 }), route({})]), ["envoy.filters.http.router"]);
});

test("a filter name used twice is refused at its path", () => {
  assert.deepEqual(errors([service, listener([limit, { ...limit, tokens: 3 }]), route({})])[0], {
    code: "schema.duplicate",
    object: "Listener/l",
    path: "spec.httpFilters[1].name",
    hint: "give each filter its own name: routes refer to filters by name",
  });
});

test("the router's name is reserved", () => {
  assert.equal(errors([service, listener([{ ...limit, name: "envoy.filters.http.router" }]), route({})])[0]?.code, "filter.reserved_name");
});

test("a type's fields are checked: unknown field, missing field, range", () => {
  const e = errors([service, listener([{ name: "x", type: "localRateLimit", tokens: 0, fillInterval: "10ms", burst: 3 }])]);
  assert.deepEqual(
    e.map((d) => `${d.code} ${d.path}`),
    ["schema.unknown_field spec.httpFilters[0].burst", "schema.range spec.httpFilters[0].fillInterval", "schema.range spec.httpFilters[0].tokens"],
  );
  assert.equal(errors([service, listener([{ name: "x", type: "rbac", action: "Allow", sourceCidrs: ["10.0.0.0/33"] }])])[0]?.path, "spec.httpFilters[0].sourceCidrs[0]");
  assert.equal(errors([service, listener([{ name: "x", type: "localRatelimit" }])])[0]?.hint, "did you mean 'localRateLimit'?");
});

test("httpFilters on a TCP listener is refused", () => {
  const tcp = o("Listener", "t", { protocol: "TCP", port: 9000, service: "web", httpFilters: [limit] });
  assert.deepEqual(errors([service, tcp]).map((d) => `${d.code} ${d.path}`), ["listener.http_only spec.httpFilters"]);
});

test("an override must name a filter of every listener the route attaches to", () => {
  const e = errors([service, listener([limit]), listener([], "m", 10001), route({ limit: { disabled: true } }, ["l", "m"])]);
  assert.deepEqual(e, [
    {
      code: "route.unknown_filter",
      object: "Route/r",
      path: "spec.routes[0].filters.limit",
      hint: "add a filter named 'limit' to spec.httpFilters of Listener 'm', or remove this override (have: no filters)",
    },
  ]);
});

test("an override of another type than the listener's filter is refused", () => {
  const e = errors([service, listener([limit]), route({ limit: { type: "fault", abort: { status: 500 } } })]);
  assert.deepEqual(e.map((d) => `${d.code} ${d.path}`), ["route.filter_type spec.routes[0].filters.limit.type"]);
});

test("compression and extAuthz take no per-route settings, only disabled: true", () => {
  const gzip = { name: "gzip", type: "compression" };
  assert.equal(errors([service, listener([gzip]), route({ gzip: { type: "compression" } })])[0]?.code, "filter.override");
  assert.deepEqual(errors([service, listener([gzip]), route({ gzip: { disabled: true } })]), []);
  assert.equal(errors([service, listener([gzip]), route({ gzip: { type: "extAuthz", service: "web" } })])[0]?.code, "filter.override");
});

test("a raw filter's route override is Envoy's own per-route message, checked like the listener's", () => {
  const buffer = { name: "buffer", type: "raw", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer", max_request_bytes: 1024 } };
  const perRoute = { "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute", buffer: { max_request_bytes: 64 } };
  const r = compile([service, listener([buffer]), route({ buffer: { type: "raw", typedConfig: perRoute } })]);
  assert.deepEqual(r.diagnostics, []);
  assert.ok(JSON.stringify(resources(r)).includes('"buffer":{"buffer":{"max_request_bytes":64},"@type":"type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute"}'));
  const bad = errors([service, listener([buffer]), route({ buffer: { type: "raw", typedConfig: { "@type": perRoute["@type"] } } })])[0];
  assert.equal(bad?.code, "raw.invalid");
  assert.equal(bad?.path, "spec.routes[0].filters.buffer.typedConfig.override");
});

test("raw: @type must be an Envoy message, its fields must parse and pass Envoy's PGV rules", () => {
  const raw = (typedConfig: unknown) => errors([service, listener([{ name: "x", type: "raw", typedConfig }])])[0];
  assert.equal(raw({ "@type": "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope" })?.code, "raw.unknown_type");
  assert.equal(raw({ "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer", max_request_byte: 1 })?.code, "raw.parse");
  // Buffer.max_request_bytes is required (buffer.proto: message.required).
  assert.deepEqual(raw({ "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer" }), {
    code: "raw.invalid",
    object: "Listener/l",
    path: "spec.httpFilters[0].typedConfig.max_request_bytes",
    hint: "fix the field as Envoy's v3 API reference describes; Envoy would reject this config",
  });
  assert.equal(raw({ "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer", max_request_bytes: 1024 }), undefined);
});

test("per-route overrides become typed_per_filter_config; the CORS policy sits on the route configuration", () => {
  const cors = { name: "cors", type: "cors", allowOrigins: ["*"] };
  const r = compile([service, listener([limit, cors]), route({ limit: { type: "localRateLimit", tokens: 1, fillInterval: "1m" }, cors: { disabled: true } })]);
  assert.deepEqual(r.diagnostics, []);
  const rc = resources(r).find((j) => Array.isArray(j["virtual_hosts"])) ?? {};
  const perRoute = (rc["virtual_hosts"] as { routes: { typed_per_filter_config: Record<string, Record<string, unknown>> }[] }[])[0]?.routes[0]?.typed_per_filter_config;
  assert.deepEqual(Object.keys(perRoute ?? {}), ["cors", "limit"]);
  assert.equal(perRoute?.["cors"]?.["disabled"], true);
  assert.deepEqual(perRoute?.["limit"]?.["token_bucket"], { max_tokens: 1, tokens_per_fill: 1, fill_interval: "60s" });
  const policy = (rc["typed_per_filter_config"] as Record<string, Record<string, unknown>>)["cors"];
  assert.deepEqual(policy?.["allow_origin_string_match"], [{ safe_regex: { regex: ".*" } }]);
});

test("jwt: the JWKS must be a key set, require and a route's require must name a provider", () => {
  const jwks = JSON.stringify({ keys: [{ kty: "RSA", n: "AQAB", e: "AQAB" }] });
  const auth = { name: "auth", type: "jwt", providers: [{ name: "idp", jwks }] };
  assert.deepEqual(errors([service, listener([auth]), route({ auth: { type: "jwt", require: "idp" } })]), []);
  assert.equal(errors([service, listener([{ ...auth, providers: [{ name: "idp", jwks: "{}" }] }])])[0]?.path, "spec.httpFilters[0].providers[0].jwks");
  assert.deepEqual(errors([service, listener([{ ...auth, require: "other" }])])[0], {
    code: "filter.jwt_provider",
    object: "Listener/l",
    path: "spec.httpFilters[0].require",
    hint: "use one of: idp",
  });
  assert.deepEqual(errors([service, listener([auth]), route({ auth: { type: "jwt", require: "other" } })])[0], {
    code: "route.jwt_provider",
    object: "Route/r",
    path: "spec.routes[0].filters.auth.require",
    hint: "require one of: idp, or add the provider to the listener's filter",
  });
});

test("extAuthz: its Service must exist, and gRPC needs an HTTP2 Service", () => {
  const authz = (protocol: string) => ({ name: "authz", type: "extAuthz", service: "checker", protocol });
  assert.deepEqual(errors([service, listener([authz("HTTP")])]).map((d) => `${d.code} ${d.path}`), ["ref.not_found spec.httpFilters[0].service"]);
  const checker = (protocol: string) => o("Service", "checker", { protocol, endpoints: [{ address: "127.0.0.1", port: 9001 }] });
  assert.deepEqual(errors([service, checker("HTTP1"), listener([authz("HTTP")]), route({})]), []);
  assert.deepEqual(errors([service, checker("HTTP1"), listener([authz("GRPC")]), route({})])[0], {
    code: "filter.grpc_needs_http2",
    object: "Listener/l",
    path: "spec.httpFilters[0].service",
    hint: "set protocol: HTTP2 on Service 'checker', or use protocol: HTTP in the filter",
  });
  const r = compile([service, checker("HTTP2"), listener([authz("GRPC")]), route({})]);
  assert.deepEqual(r.diagnostics, []);
  assert.ok(JSON.stringify(resources(r)).includes('"envoy_grpc":{"cluster_name":"checker"}'));
});

test("rbac jwtClaims: the provider must belong to a jwt filter listed before the rbac filter", () => {
  const jwks = JSON.stringify({ keys: [{ kty: "RSA", n: "AQAB", e: "AQAB" }] });
  const auth = { name: "auth", type: "jwt", providers: [{ name: "idp", jwks }] };
  const admins = { name: "admins", type: "rbac", action: "Allow", jwtClaims: [{ provider: "idp", claim: "sub", exact: "admin" }] };
  assert.deepEqual(errors([service, listener([auth, admins]), route({})]), []);
  assert.deepEqual(errors([service, listener([admins, auth])])[0], {
    code: "filter.jwt_claim_provider",
    object: "Listener/l",
    path: "spec.httpFilters[0].jwtClaims[0].provider",
    hint: "list a jwt filter with this provider before the rbac filter",
  });
  const local = { name: "local", type: "rbac", action: "Allow", sourceCidrs: ["127.0.0.1"] };
  const override = { local: { type: "rbac", action: "Allow", jwtClaims: [{ provider: "idp", claim: "sub", exact: "admin" }] } };
  assert.equal(errors([service, listener([local, auth]), route(override)])[0]?.code, "route.jwt_claim_provider");
  assert.deepEqual(errors([service, listener([auth, local]), route(override)]), []);
});

test("jwt remoteJwks: exactly one key source, and its Service is a reference like any other", () => {
  const remote = { name: "idp", remoteJwks: { service: "keys", path: "/jwks.json" } };
  const auth = (providers: unknown[]) => listener([{ name: "auth", type: "jwt", providers }]);
  assert.deepEqual(errors([service, auth([remote])]).map((d) => `${d.code} ${d.path}`), ["ref.not_found spec.httpFilters[0].providers[0].remoteJwks.service"]);
  const keys = o("Service", "keys", { endpoints: [{ address: "127.0.0.1", port: 9002 }] });
  const r = compile([service, keys, auth([remote]), route({})]);
  assert.deepEqual(r.diagnostics, []);
  assert.ok(JSON.stringify(resources(r)).includes('"http_uri":{"uri":"http://keys/jwks.json","cluster":"keys","timeout":"1s"}'));
  assert.equal(errors([service, keys, auth([{ ...remote, jwks: "{}" }])])[0]?.code, "filter.jwks");
});
