import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "./compile.ts";
import type { Diagnostic, ModelObject } from "./model/model-object.ts";

// Every error kind the model and the graph report, each with its exact field path and
// hint: the contract with operators is that a diagnostic names the field and the fix.

const certs = join(import.meta.dirname, "..", "..", "..", "examples", "control-plane", "certs");
const cert = readFileSync(join(certs, "localhost.crt"), "utf8");
const key = readFileSync(join(certs, "localhost.key"), "utf8");

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const listener = (spec: Record<string, unknown> = {}, name = "l"): ModelObject => o("Listener", name, { protocol: "HTTP", port: 10000, ...spec });
const service = (spec: Record<string, unknown> = {}, name = "web"): ModelObject => o("Service", name, { endpoints: [{ address: "127.0.0.1", port: 8081 }], ...spec });
const route = (rule: Record<string, unknown> = {}, spec: Record<string, unknown> = {}, name = "r"): ModelObject =>
  o("Route", name, { listeners: ["l"], routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }], ...rule }], ...spec });

interface Case {
  name: string;
  objects: ModelObject[];
  expect: Pick<Diagnostic, "code" | "object" | "path" | "hint"> & { message?: string };
}

const cases: Case[] = [
  {
    name: "a backend names a Service that does not exist",
    objects: [listener(), service(), service({}, "web1"), route({ backends: [{ service: "web2" }] })],
    expect: { code: "ref.not_found", object: "Route/r", path: "spec.routes[0].backends[0].service", message: "Service 'web2' does not exist", hint: "define Service 'web2' or use one of: web, web1" },
  },
  {
    name: "a reference to a refused object",
    objects: [listener(), service({ connectTimeout: "soon" }), route()],
    expect: { code: "ref.rejected", object: "Route/r", path: "spec.routes[0].backends[0].service", hint: "fix the errors reported on Service/web first" },
  },
  {
    name: "a route attached to a TCP listener",
    objects: [listener({ protocol: "TCP", service: "web" }), service(), route()],
    expect: { code: "ref.wrong_protocol", object: "Route/r", path: "spec.listeners[0]", hint: "attach the route to an HTTP or HTTPS listener, or send the TCP listener's traffic with its spec.service" },
  },
  {
    name: "two listeners on one port",
    objects: [listener({}, "a"), listener({}, "b")],
    expect: { code: "listener.port_conflict", object: "Listener/b", path: "spec.port", hint: "choose another port, or put the two listeners in different NodeGroups" },
  },
  {
    name: "two routes claiming one domain on one listener",
    objects: [listener(), service(), route({}, {}, "a"), route({}, {}, "b")],
    expect: { code: "route.domain_conflict", object: "Route/b", path: "spec.domains[0]", hint: "move these routes into Route 'a', or use a different domain" },
  },
  {
    name: "a misspelt field",
    objects: [listener({ prot: 1 })],
    expect: { code: "schema.unknown_field", object: "Listener/l", path: "spec.prot", hint: "did you mean 'port'?" },
  },
  {
    name: "a missing required field",
    objects: [o("Listener", "l", { port: 1 })],
    expect: { code: "schema.required", object: "Listener/l", path: "spec.protocol", hint: "set protocol to one of: HTTP, HTTPS, TCP, UDP" },
  },
  {
    name: "a value of the wrong type",
    objects: [listener({ port: "10000" })],
    expect: { code: "schema.type", object: "Listener/l", path: "spec.port", hint: "write port as a number from 1 to 65535, without quotes" },
  },
  {
    name: "a number out of range",
    objects: [service({ endpoints: [{ address: "127.0.0.1", port: 0 }] })],
    expect: { code: "schema.range", object: "Service/web", path: "spec.endpoints[0].port", hint: "set port to a number from 1 to 65535" },
  },
  {
    name: "an unknown enum value",
    objects: [service({ lbPolicy: "RoundRobbin" })],
    expect: { code: "schema.enum", object: "Service/web", path: "spec.lbPolicy", hint: "did you mean 'RoundRobin'?" },
  },
  {
    name: "a malformed duration",
    objects: [service({ connectTimeout: "5 seconds" })],
    expect: { code: "schema.duration", object: "Service/web", path: "spec.connectTimeout", hint: 'write connectTimeout as a number with a unit: "250ms", "5s", "1m" or "1h"' },
  },
  {
    name: "an empty list that needs items",
    objects: [listener(), route({ backends: [] })],
    expect: { code: "schema.min_items", object: "Route/r", path: "spec.routes[0].backends", hint: "add an item to backends" },
  },
  {
    name: "an empty string",
    objects: [o("AccessLog", "a", { path: "" })],
    expect: { code: "schema.empty", object: "AccessLog/a", path: "spec.path", hint: "set path to a non-empty value or remove it" },
  },
  {
    name: "a listener address that is not an IP",
    objects: [listener({ address: "localhost" })],
    expect: { code: "schema.ip", object: "Listener/l", path: "spec.address", hint: "listen on an IP address such as 0.0.0.0 (all IPv4) or :: (all IPv6)" },
  },
  {
    name: "a listener listed twice",
    objects: [listener(), service(), route({}, { listeners: ["l", "l"] })],
    expect: { code: "schema.duplicate", object: "Route/r", path: "spec.listeners", hint: "list each listener once" },
  },
  {
    name: "an unsupported apiVersion",
    objects: [{ ...listener(), apiVersion: "v1" }],
    expect: { code: "object.api_version", object: "Listener/l", path: "apiVersion", hint: "set apiVersion: tcp.dev/v1alpha1" },
  },
  {
    name: "an unknown kind",
    objects: [o("Servce", "s", {})],
    expect: { code: "object.unknown_kind", object: "Servce/s", path: "kind", hint: "did you mean 'Service'?" },
  },
  {
    name: "a name Envoy cannot use",
    objects: [service({}, "web service")],
    expect: { code: "object.name", object: "Service/web service", path: "metadata.name", hint: "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit" },
  },
  {
    name: "the same object twice",
    objects: [service(), service()],
    expect: { code: "object.duplicate", object: "Service/web", path: "metadata.name", hint: "remove or rename the other definition" },
  },
  {
    name: "tls on a plain HTTP listener",
    objects: [listener({ tls: { certificate: cert, key } })],
    expect: { code: "listener.tls_not_https", object: "Listener/l", path: "spec.tls", hint: "use protocol: HTTPS or remove tls" },
  },
  {
    name: "service on an HTTP listener",
    objects: [listener({ service: "web" }), service()],
    expect: { code: "listener.service_not_proxy", object: "Listener/l", path: "spec.service", hint: "remove service and attach a Route to this listener (Route spec.listeners)" },
  },
  {
    name: "tracing on a TCP listener",
    objects: [listener({ protocol: "TCP", service: "web", tracing: "z" }), service()],
    expect: { code: "listener.http_only", object: "Listener/l", path: "spec.tracing", hint: "remove tracing or use protocol: HTTP" },
  },
  {
    name: "a certificate file the runtime did not read",
    objects: [listener({ protocol: "HTTPS", tls: { certificateFile: "a.crt", key } })],
    expect: { code: "tls.file_unresolved", object: "Listener/l", path: "spec.tls.certificateFile", hint: "make sure the file exists and is readable by the control plane, or write the PEM inline as certificate" },
  },
  {
    name: "a certificate that is not PEM",
    objects: [listener({ protocol: "HTTPS", tls: { certificate: "not a cert", key } })],
    expect: { code: "tls.invalid_certificate", object: "Listener/l", path: "spec.tls.certificate", hint: "paste the whole PEM block, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----" },
  },
  {
    name: "a key that is not PEM",
    objects: [listener({ protocol: "HTTPS", tls: { certificate: cert, key: "nope" } })],
    expect: { code: "tls.invalid_key", object: "Listener/l", path: "spec.tls.key", hint: "paste the whole PEM block, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY----- (unencrypted)" },
  },
  {
    name: "a key of another certificate",
    objects: [
      listener({
        protocol: "HTTPS",
        tls: {
          certificate: cert,
          key: "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkeMG1PDztGpX+uXV\n7ReLKCIAcrem0ICyALnzrUVpe1GhRANCAAQfyR4nXRETzv2B9iFBBBNxip11DiVv\nb5Q4F/4cNeo8NdZlU6TTHmuu+CbHqw/QI8QizmFDvUv2Gta9q3zVQXmS\n-----END PRIVATE KEY-----\n",
        },
      }),
    ],
    expect: { code: "tls.key_mismatch", object: "Listener/l", path: "spec.tls.key", hint: "use the key that was generated with this certificate" },
  },
  {
    name: "a wildcard in the middle of a domain",
    objects: [listener(), service(), route({}, { domains: ["a.*.com"] })],
    expect: { code: "route.domain_wildcard", object: "Route/r", path: "spec.domains[0]", hint: 'use "*" alone, a prefix wildcard ("*.example.com") or a suffix wildcard ("example.*")' },
  },
  {
    name: "a domain listed twice",
    objects: [listener(), service(), route({}, { domains: ["a.com", "a.com"] })],
    expect: { code: "route.duplicate_domain", object: "Route/r", path: "spec.domains", hint: "list each domain once" },
  },
  {
    name: "every backend at weight 0",
    objects: [listener(), service(), service({}, "b"), route({ backends: [{ service: "web", weight: 0 }, { service: "b", weight: 0 }] })],
    expect: { code: "route.zero_weight", object: "Route/r", path: "spec.routes[0].backends[0].weight", hint: "give at least one backend a weight above 0" },
  },
  {
    name: "a backend listed twice",
    objects: [listener(), service(), route({ backends: [{ service: "web", weight: 1 }, { service: "web", weight: 2 }] })],
    expect: { code: "route.duplicate_backend", object: "Route/r", path: "spec.routes[0].backends", hint: "list each service once and add up its weights" },
  },
  {
    name: "a weighted backend without weight",
    objects: [listener(), service(), service({}, "b"), route({ backends: [{ service: "web", weight: 1 }, { service: "b" }] })],
    expect: { code: "schema.required", object: "Route/r", path: "spec.routes[0].backends[1].weight", hint: "give every backend a weight, e.g. 90 and 10 for a 10% canary" },
  },
  {
    name: "prefixRewrite without a prefix match",
    objects: [listener(), service(), route({ match: { path: "/a" }, prefixRewrite: "/b" })],
    expect: { code: "route.prefix_rewrite", object: "Route/r", path: "spec.routes[0].prefixRewrite", hint: "match with prefix: or remove prefixRewrite" },
  },
  {
    name: "two path matches in one rule",
    objects: [listener(), service(), route({ match: { prefix: "/", path: "/a" } })],
    expect: { code: "route.match_conflict", object: "Route/r", path: "spec.routes[0].match.path", hint: "keep exactly one of prefix, path or regex" },
  },
  {
    name: "a path without its leading slash",
    objects: [listener(), service(), route({ match: { prefix: "api" } })],
    expect: { code: "route.path_slash", object: "Route/r", path: "spec.routes[0].match.prefix", hint: "write it as '/api'" },
  },
  {
    name: "a regex RE2 rejects",
    objects: [listener(), service(), route({ match: { regex: "/((" } })],
    expect: { code: "route.invalid_regex", object: "Route/r", path: "spec.routes[0].match.regex", hint: "fix the expression; Envoy uses RE2 syntax (no lookahead, lookbehind or backreferences)" },
  },
  {
    name: "a header match with two kinds",
    objects: [listener(), service(), route({ match: { prefix: "/", headers: [{ name: "x", exact: "a", prefix: "b" }] } })],
    expect: { code: "route.header_match", object: "Route/r", path: "spec.routes[0].match.headers[0]", hint: "keep exactly one of exact, prefix, regex or present: true" },
  },
  {
    name: "hashOn with two keys",
    objects: [listener(), service(), route({ hashOn: { header: "x-user", sourceIp: true } })],
    expect: { code: "route.hash_on", object: "Route/r", path: "spec.routes[0].hashOn", hint: "keep exactly one of header: <name>, cookie: <name>, queryParameter: <name> or sourceIp: true" },
  },
  {
    name: "dnsLookupFamily on a static service",
    objects: [service({ dnsLookupFamily: "V4Only" })],
    expect: { code: "service.dns_only", object: "Service/web", path: "spec.dnsLookupFamily", hint: "remove dnsLookupFamily or set discovery: DNS" },
  },
  {
    name: "a path on a TCP health check",
    objects: [service({ healthCheck: { type: "TCP", path: "/x" } })],
    expect: { code: "service.health_check_path", object: "Service/web", path: "spec.healthCheck.path", hint: "remove path or use type: HTTP" },
  },
  {
    name: "a hostname in a static service",
    objects: [service({ endpoints: [{ address: "db.internal", port: 5432 }] })],
    expect: { code: "service.static_hostname", object: "Service/web", path: "spec.endpoints[0].address", hint: "write an IP address, or set discovery: DNS so Envoy resolves the name" },
  },
  {
    name: "an endpoint listed twice",
    objects: [service({ endpoints: [{ address: "127.0.0.1", port: 1 }, { address: "127.0.0.1", port: 1 }] })],
    expect: { code: "service.duplicate_endpoint", object: "Service/web", path: "spec.endpoints[1].address", hint: "list each endpoint once; use weight to send it more traffic" },
  },
  {
    name: "an access log with two formats",
    objects: [o("AccessLog", "a", { path: "/dev/stdout", format: "%START_TIME%", json: { a: "b" } })],
    expect: { code: "access_log.format_conflict", object: "AccessLog/a", path: "spec.json", hint: "keep one: format (text) or json (structured)" },
  },
  {
    name: "a raw resource of a type xDS does not serve",
    objects: [o("RawResource", "x", { resource: { "@type": "type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap" } })],
    expect: {
      code: "raw.unknown_type",
      object: "RawResource/x",
      path: "spec.resource.@type",
      hint: "set @type to one of: type.googleapis.com/envoy.config.cluster.v3.Cluster, type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment, type.googleapis.com/envoy.config.listener.v3.Listener, type.googleapis.com/envoy.config.route.v3.RouteConfiguration, type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration, type.googleapis.com/envoy.config.route.v3.VirtualHost, type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret, type.googleapis.com/envoy.service.runtime.v3.Runtime, type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
    },
  },
  {
    name: "a raw resource that does not parse",
    objects: [o("RawResource", "x", { resource: { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "x", typ: "STATIC" } })],
    expect: { code: "raw.parse", object: "RawResource/x", path: "spec.resource.typ", hint: "fix the field named in the message; field names and values follow Envoy's v3 API reference (snake_case or camelCase)" },
  },
  {
    name: "a raw resource with a value of the wrong form (protobuf-es names the type, not the field: the resource is blamed)",
    objects: [o("RawResource", "x", { resource: { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "x", connectTimeout: "5 s" } })],
    expect: { code: "raw.parse", object: "RawResource/x", path: "spec.resource", hint: "fix the field named in the message; field names and values follow Envoy's v3 API reference (snake_case or camelCase)" },
  },
  {
    name: "a raw resource named like a generated one",
    objects: [service(), o("RawResource", "x", { resource: { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "web", connect_timeout: "1s" } })],
    expect: { code: "raw.name_conflict", object: "RawResource/x", path: "spec.resource.name", hint: "rename the raw resource, or remove Service/web" },
  },
  {
    name: "a raw listener whose RDS name nothing produces",
    objects: [
      o("RawResource", "x", {
        resource: {
          "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
          name: "raw",
          address: { socket_address: { address: "0.0.0.0", port_value: 1 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "hcm",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "raw",
                    rds: { route_config_name: "missing", config_source: { ads: {} } },
                  },
                },
              ],
            },
          ],
        },
      }),
    ],
    expect: { code: "raw.dangling_reference", object: "RawResource/x", path: "spec.resource.filter_chains[0].filters[0].typed_config.rds.route_config_name", hint: "add a RawResource (or a Service/Listener) producing RouteConfiguration 'missing'" },
  },
  {
    name: "a resource Envoy's PGV rules reject",
    objects: [o("RawResource", "x", { resource: { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "x", connect_timeout: "-1s" } })],
    expect: { code: "envoy.invalid", object: "RawResource/x", path: "spec.resource.connect_timeout", hint: "fix spec.resource.connect_timeout (rule duration.gt)" },
  },
  {
    name: "a node group listing a listener that does not exist",
    objects: [listener(), o("NodeGroup", "g", { selector: {}, listeners: ["l2"] })],
    expect: { code: "ref.not_found", object: "NodeGroup/g", path: "spec.listeners[0]", hint: "define Listener 'l2' or use one of: l" },
  },
  {
    name: "a tracing collector that does not exist",
    objects: [o("Tracing", "t", { zipkin: { service: "zipkin" } })],
    expect: { code: "ref.not_found", object: "Tracing/t", path: "spec.zipkin.service", hint: "define Service 'zipkin'" },
  },
];

for (const c of cases) {
  test(`diagnostic ${c.expect.code}: ${c.name}`, () => {
    const r = compile(c.objects);
    const found = r.diagnostics.filter((d) => d.code === c.expect.code);
    assert.equal(found.length, 1, `one ${c.expect.code} in ${JSON.stringify(r.diagnostics, null, 1)}`);
    const d = found[0] as Diagnostic;
    assert.equal(d.severity, "error");
    assert.equal(d.object, c.expect.object);
    assert.equal(d.path, c.expect.path);
    assert.equal(d.hint, c.expect.hint);
    if (c.expect.message !== undefined) assert.equal(d.message, c.expect.message);
    if (c.expect.code !== "object.duplicate") assert.ok(r.rejected.includes(c.expect.object ?? ""), `${c.expect.object} is refused`);
  });
}
