import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "./compile.ts";
import { resourceToJson } from "./envoy/resource-json.ts";
import type { ModelObject } from "./model/model-object.ts";

// OpenTelemetry tracing and access logs (issue 8): what they compile to, and the
// diagnostics an operator gets for each mistake, each with its path and fix.

type JsonRecord = Record<string, unknown>;
const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const collector = (protocol = "HTTP2"): ModelObject => o("Service", "otel", { protocol, endpoints: [{ address: "127.0.0.1", port: 4317 }] });
const web = o("Service", "web", { endpoints: [{ address: "127.0.0.1", port: 8081 }] });
const tracing = (spec: Record<string, unknown> = { opentelemetry: { service: "otel" } }): ModelObject => o("Tracing", "t", spec);
const accessLog = (spec: Record<string, unknown> = { type: "opentelemetry", service: "otel" }, name = "a"): ModelObject => o("AccessLog", name, spec);
const listener = (spec: Record<string, unknown>, name = "l", port = 10000): ModelObject => o("Listener", name, { protocol: "HTTP", port, ...spec });
const route = (listeners = ["l"]): ModelObject => o("Route", "r", { listeners, routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }] }] });

function errors(objects: ModelObject[]): { code: string; object: string | undefined; path: string | undefined; hint: string | undefined }[] {
  return compile(objects)
    .diagnostics.filter((d) => d.severity === "error")
    .map(({ code, object, path, hint }) => ({ code, object, path, hint }));
}

/** The HTTP connection manager of the only listener of group `group`. */
function hcm(r: ReturnType<typeof compile>, group = "default"): JsonRecord {
  const listenerJson = (r.groups.find((g) => g.name === group)?.resources ?? []).map((m) => resourceToJson(m) as JsonRecord).find((j) => Array.isArray(j["filter_chains"])) ?? {};
  return (listenerJson["filter_chains"] as { filters: { typed_config: JsonRecord }[] }[])[0]?.filters[0]?.typed_config ?? {};
}

const clusters = (r: ReturnType<typeof compile>, group: string): string[] =>
  (r.groups.find((g) => g.name === group)?.resources ?? []).filter((m) => m.$typeName === "envoy.config.cluster.v3.Cluster").map((m) => (resourceToJson(m) as { name: string }).name);

test("opentelemetry tracing: envoy.tracers.opentelemetry over Envoy's gRPC client to the collector's cluster, sampling as with Zipkin", () => {
  const r = compile([collector(), web, tracing({ samplingPercent: 25, opentelemetry: { service: "otel", serviceName: "front" } }), listener({ tracing: "t" }), route()]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(hcm(r)["tracing"], {
    random_sampling: { value: 25 },
    provider: {
      name: "envoy.tracers.opentelemetry",
      typed_config: { grpc_service: { envoy_grpc: { cluster_name: "otel" } }, service_name: "front", "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig" },
    },
  });
});

test("opentelemetry access log: log_name defaults to the AccessLog's name; no body or attributes unless written", () => {
  const r = compile([collector(), web, accessLog(), listener({ accessLogs: ["a"] }), route()]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(hcm(r)["access_log"], [
    {
      name: "envoy.access_loggers.open_telemetry",
      typed_config: { grpc_service: { envoy_grpc: { cluster_name: "otel" } }, log_name: "a", "@type": "type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig" },
    },
  ]);
});

test("a TCP listener sends opentelemetry access logs too (tcp_proxy)", () => {
  const r = compile([collector(), web, accessLog(), o("Listener", "db", { protocol: "TCP", port: 5432, service: "web", accessLogs: ["a"] })]);
  assert.deepEqual(r.diagnostics, []);
  const proxy = hcm(r) as { access_log?: { name: string }[] };
  assert.deepEqual(proxy.access_log?.map((a) => a.name), ["envoy.access_loggers.open_telemetry"]);
});

test("the collector's cluster goes only to the node groups whose listeners trace or log to it", () => {
  const objects = [
    collector(),
    web,
    tracing(),
    listener({ tracing: "t" }, "traced", 10000),
    listener({}, "plain", 10001),
    o("Route", "r", { listeners: ["traced", "plain"], routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }] }] }),
    o("NodeGroup", "a", { selector: { clusters: ["a"] }, listeners: ["traced"] }),
    o("NodeGroup", "b", { selector: { clusters: ["b"] }, listeners: ["plain"] }),
  ];
  const r = compile(objects);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(clusters(r, "a"), ["otel", "web"]);
  assert.deepEqual(clusters(r, "b"), ["web"]);
  // The same for an access log.
  const logged = compile([...objects.filter((x) => x.kind !== "Tracing" && x.metadata.name !== "traced"), accessLog(), listener({ accessLogs: ["a"] }, "traced", 10000)]);
  assert.deepEqual(logged.diagnostics, []);
  assert.deepEqual(clusters(logged, "a"), ["otel", "web"]);
  assert.deepEqual(clusters(logged, "b"), ["web"]);
});

test("an HTTP1 collector is refused: gRPC needs HTTP/2, and the listener using it is refused with it", () => {
  const traced = compile([collector("HTTP1"), web, tracing(), listener({ tracing: "t" }), route()]);
  const found = (code: string, r: ReturnType<typeof compile>) => r.diagnostics.filter((d) => d.code === code).map(({ object, path, hint }) => ({ object, path, hint }));
  assert.deepEqual(found("ref.grpc_needs_http2", traced), [{ object: "Tracing/t", path: "spec.opentelemetry.service", hint: "set protocol: HTTP2 on Service 'otel'" }]);
  assert.deepEqual(found("ref.rejected", traced)[0], { object: "Listener/l", path: "spec.tracing", hint: "fix the errors reported on Tracing/t first" });
  assert.deepEqual(traced.rejected.sort(), ["Listener/l", "Route/r", "Tracing/t"]);
  const logged = compile([collector("HTTP1"), web, accessLog(), listener({ accessLogs: ["a"] }), route()]);
  assert.deepEqual(found("ref.grpc_needs_http2", logged), [{ object: "AccessLog/a", path: "spec.service", hint: "set protocol: HTTP2 on Service 'otel'" }]);
  assert.ok(logged.rejected.includes("Listener/l"));
});

test("a collector Service that does not exist", () => {
  assert.deepEqual(errors([web, accessLog(), listener({ accessLogs: ["a"] }), route()])[0], { code: "ref.not_found", object: "AccessLog/a", path: "spec.service", hint: "define Service 'otel' or use one of: web" });
  assert.deepEqual(errors([web, tracing()])[0], { code: "ref.not_found", object: "Tracing/t", path: "spec.opentelemetry.service", hint: "define Service 'otel' or use one of: web" });
});

test("model mistakes: two providers, no provider, a field of the other access log type, no service", () => {
  assert.deepEqual(errors([collector(), tracing({ zipkin: { service: "otel" }, opentelemetry: { service: "otel" } })]), [
    { code: "tracing.provider_conflict", object: "Tracing/t", path: "spec.opentelemetry", hint: "keep one, or make a second Tracing object for the other" },
  ]);
  assert.equal(errors([tracing({ samplingPercent: 5 })])[0]?.code, "schema.required");
  assert.deepEqual(errors([collector(), accessLog({ type: "opentelemetry", service: "otel", path: "/dev/stdout" })]), [
    { code: "access_log.wrong_type", object: "AccessLog/a", path: "spec.path", hint: "remove path; opentelemetry logs take service, logName, body and attributes" },
  ]);
  assert.deepEqual(errors([collector(), accessLog({ path: "/dev/stdout", service: "otel" })]), [
    { code: "access_log.wrong_type", object: "AccessLog/a", path: "spec.service", hint: "set type: opentelemetry, or remove service" },
  ]);
  assert.deepEqual(errors([accessLog({ type: "opentelemetry" })]), [{ code: "schema.required", object: "AccessLog/a", path: "spec.service", hint: "set service to a string" }]);
  assert.deepEqual(errors([accessLog({ type: "otlp", service: "otel" })]).map((d) => `${d.code} ${d.path}`), ["schema.enum spec.type"]);
});
