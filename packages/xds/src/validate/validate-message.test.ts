import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromJson, type DescMessage, type JsonObject } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { type Listener, ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { SecretSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/secret_pb";
import { MetadataSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import * as fx from "../../testing/envoy-fixtures.ts";
import { typedStructAny } from "./typed-struct.ts";
import { validateMessage } from "./validate-message.ts";

const registry = envoyRegistry();
const parse = <D extends DescMessage>(schema: D, json: JsonObject) => fromJson(schema, json, { registry });
const check = (schema: DescMessage, json: JsonObject) => validateMessage(schema, parse(schema, json));
const brief = (schema: DescMessage, json: JsonObject) => check(schema, json).map((v) => `${v.path} ${v.rule}`);

// Reaches into a fixture to break one field.
type Json = Record<string, unknown>;
const at = (o: unknown, ...keys: (string | number)[]): Json => keys.reduce<unknown>((x, k) => (x as Json)[k], o) as Json;

test("realistic valid resources have no violations", () => {
  assert.deepEqual(check(ClusterSchema, fx.tlsCluster()), []);
  assert.deepEqual(check(ClusterSchema, fx.edsCluster("svc")), []);
  assert.deepEqual(check(ListenerSchema, fx.hcmListener()), []);
  assert.deepEqual(check(ListenerSchema, fx.rdsTlsListener("shop", 10443)), []);
  assert.deepEqual(check(ListenerSchema, fx.richHcmListener()), []);
  assert.deepEqual(check(ClusterSchema, fx.richCluster()), []);
  assert.deepEqual(check(RouteConfigurationSchema, fx.routeConfiguration()), []);
  assert.deepEqual(check(ClusterLoadAssignmentSchema, fx.clusterLoadAssignment()), []);
  assert.deepEqual(check(SecretSchema, fx.tlsSecret()), []);
});

test("a cluster without a name breaks string.min_len with Envoy's wording", () => {
  const c = fx.tlsCluster();
  c["name"] = "";
  assert.deepEqual(check(ClusterSchema, c), [{ path: "name", rule: "string.min_len", message: "value length must be at least 1 characters" }]);
});

test("cluster: enum defined_only, duration gt, uint32 lte in a nested endpoint, wrapper ranges", () => {
  const c = fx.tlsCluster();
  c["lbPolicy"] = 42;
  c["connectTimeout"] = "0s";
  at(c, "loadAssignment", "endpoints", 0, "lbEndpoints", 0, "endpoint", "address", "socketAddress")["portValue"] = 70000;
  at(c, "loadAssignment", "endpoints", 0, "lbEndpoints", 1)["loadBalancingWeight"] = 0;
  at(c, "outlierDetection")["maxEjectionPercent"] = 101;
  assert.deepEqual(check(ClusterSchema, c), [
    { path: "connect_timeout", rule: "duration.gt", message: "value must be greater than 0s" },
    { path: "lb_policy", rule: "enum.defined_only", message: "value must be one of the defined enum values" },
    {
      path: "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value",
      rule: "uint32.lte",
      message: "value must be less than or equal to 65535",
    },
    { path: "load_assignment.endpoints[0].lb_endpoints[1].load_balancing_weight", rule: "uint32.gte", message: "value must be greater than or equal to 1" },
    // Declaration order, not field-number order: PGV's generated code walks fields as declared.
    { path: "outlier_detection.max_ejection_percent", rule: "uint32.lte", message: "value must be less than or equal to 100" },
  ]);
});

test("cluster: rules inside the upstream TLS context's Any are checked", () => {
  const c = fx.tlsCluster();
  at(c, "transportSocket", "typedConfig")["sni"] = "x".repeat(256);
  assert.deepEqual(brief(ClusterSchema, c), ["transport_socket.typed_config.sni string.max_bytes"]);
});

test("listener: violations inside the HCM in typed_config carry the full path", () => {
  const l = fx.hcmListener();
  const hcm = at(l, "filterChains", 0, "filters", 0, "typedConfig");
  hcm["statPrefix"] = "";
  at(hcm, "routeConfig", "virtualHosts", 0)["domains"] = [];
  assert.deepEqual(check(ListenerSchema, l), [
    { path: "filter_chains[0].filters[0].typed_config.stat_prefix", rule: "string.min_len", message: "value length must be at least 1 characters" },
    {
      path: "filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains",
      rule: "repeated.min_items",
      message: "value must contain at least 1 item(s)",
    },
  ]);
});

test("listener: an Any whose type is unknown is a violation, as Envoy rejects it", () => {
  const l = parse(ListenerSchema, fx.hcmListener());
  const filter = l.filterChains[0]!.filters[0]!;
  filter.configType = { case: "typedConfig", value: { $typeName: "google.protobuf.Any", typeUrl: "type.googleapis.com/acme.Nope", value: new Uint8Array() } };
  assert.deepEqual(
    validateMessage(ListenerSchema, l).map((v) => `${v.path} ${v.rule}`),
    ["filter_chains[0].filters[0].typed_config any.type_url"],
  );
  // For extension types newer than the generated API, callers can opt out.
  assert.deepEqual(validateMessage(ListenerSchema, l, { unknownAnyTypes: "ignore" }), []);
});

test("listener: the HCM's oneof route_specifier is required", () => {
  const hcm = create(HttpConnectionManagerSchema, { statPrefix: "x" });
  const l = parse(ListenerSchema, fx.hcmListener());
  l.filterChains[0]!.filters[0]!.configType = { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) };
  assert.deepEqual(
    validateMessage(ListenerSchema, l).map((v) => `${v.path} ${v.rule}`),
    ["filter_chains[0].filters[0].typed_config.route_specifier oneof.required"],
  );
});

test("route: oneof members, header names, regex pattern and required messages", () => {
  const r = fx.routeConfiguration();
  const routes = at(r, "virtualHosts", 0, "routes") as unknown as Json[];
  // Header matchers use the loose check (strict: false): only NUL, CR and LF are refused.
  at(routes[0], "match", "headers", 0)["name"] = "bad\nheader";
  at(routes[0], "requestHeadersToAdd", 0, "header")["key"] = "";
  at(routes[2], "match")["pathSeparatedPrefix"] = "/static/";
  delete routes[3]!["redirect"];
  assert.deepEqual(check(RouteConfigurationSchema, r), [
    {
      path: "virtual_hosts[0].routes[0].match.headers[0].name",
      rule: "string.well_known_regex.header_name",
      message: 'value does not match regex pattern "^[^\\x00\\n\\r]*$"',
    },
    { path: "virtual_hosts[0].routes[0].request_headers_to_add[0].header.key", rule: "string.min_len", message: "value length must be at least 1 characters" },
    {
      path: "virtual_hosts[0].routes[2].match.path_separated_prefix",
      rule: "string.pattern",
      message: 'value does not match regex pattern "^[^?#]+[^?#/]$"',
    },
    { path: "virtual_hosts[0].routes[3].action", rule: "oneof.required", message: 'field: "action", reason: is required' },
  ]);
});

test("cluster load assignment: name, priority bound, wrapper gt and duration gt", () => {
  const cla = fx.clusterLoadAssignment();
  cla["clusterName"] = "";
  at(cla, "endpoints", 0)["priority"] = 129;
  at(cla, "policy")["overprovisioningFactor"] = 0;
  at(cla, "policy")["endpointStaleAfter"] = "0s";
  assert.deepEqual(brief(ClusterLoadAssignmentSchema, cla), [
    "cluster_name string.min_len",
    "endpoints[0].priority uint32.lte",
    "policy.overprovisioning_factor uint32.gt",
    "policy.endpoint_stale_after duration.gt",
  ]);
});

test("secret: data source file names and session ticket keys", () => {
  const s = fx.tlsSecret();
  at(s, "tlsCertificate", "privateKey")["filename"] = "";
  assert.deepEqual(brief(SecretSchema, s), ["tls_certificate.private_key.filename string.min_len"]);
  assert.deepEqual(brief(SecretSchema, { name: "tickets", sessionTicketKeys: { keys: [] } }), ["session_ticket_keys.keys repeated.min_items"]);
});

test("map keys are checked, and violations name the key", () => {
  const m = create(MetadataSchema, { filterMetadata: { "": {}, ok: {} } });
  assert.deepEqual(validateMessage(MetadataSchema, m), [
    { path: 'filter_metadata[""]', rule: "string.min_len", message: "value length must be at least 1 characters" },
  ]);
});

test("maxViolations stops the walk early", () => {
  const r = fx.routeConfiguration();
  const hosts = at(r, "virtualHosts") as unknown as Json[];
  for (let i = 0; i < 5; i++) hosts.push({ name: `v${i}`, domains: [] });
  assert.equal(check(RouteConfigurationSchema, r).length, 5);
  assert.equal(validateMessage(RouteConfigurationSchema, parse(RouteConfigurationSchema, r), { maxViolations: 2 }).length, 2);
  assert.deepEqual(validateMessage(RouteConfigurationSchema, parse(RouteConfigurationSchema, r), { maxViolations: 0 }), []);
});

test("a caller's registry resolves Any contents instead of the built-in one", () => {
  const l = parse(ListenerSchema, fx.hcmListener());
  const empty = { getMessage: () => undefined, getEnum: () => undefined, getExtension: () => undefined, getExtensionFor: () => undefined, getService: () => undefined, get: () => undefined, [Symbol.iterator]: [][Symbol.iterator] };
  const v = validateMessage(ListenerSchema, l, { registry: empty as unknown as typeof registry });
  assert.deepEqual(v.map((x) => x.rule), ["any.type_url"]);
});

test("a TypedStruct in typed_config is read as the type it names and validated", () => {
  const ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
  const HCM_URL = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  const l = parse(ListenerSchema, fx.hcmListener());
  const filter = l.filterChains[0]!.filters[0]!;
  const hcmJson = at(fx.hcmListener(), "filterChains", 0, "filters", 0, "typedConfig");
  delete hcmJson["@type"];
  const router = { name: "envoy.filters.http.router", typedConfig: { "@type": ROUTER } };
  filter.configType = { case: "typedConfig", value: typedStructAny(HCM_URL, { ...hcmJson, httpFilters: [router] } as JsonObject) };
  assert.deepEqual(validateMessage(ListenerSchema, l), []);
  filter.configType = { case: "typedConfig", value: typedStructAny(HCM_URL, { ...hcmJson, statPrefix: "" } as JsonObject) };
  assert.deepEqual(brief2(l), ["filter_chains[0].filters[0].typed_config.stat_prefix string.min_len"]);
  filter.configType = { case: "typedConfig", value: typedStructAny("type.googleapis.com/acme.Nope", {}) };
  assert.deepEqual(brief2(l), ["filter_chains[0].filters[0].typed_config any.type_url"]);
  filter.configType = { case: "typedConfig", value: typedStructAny(HCM_URL, { noSuchField: 1 }) };
  assert.deepEqual(brief2(l), ["filter_chains[0].filters[0].typed_config any.value"]);
});

const brief2 = (l: Listener) => validateMessage(ListenerSchema, l).map((v) => `${v.path} ${v.rule}`);

test("Any values of a map (typed_extension_protocol_options) are unpacked and checked", () => {
  const c = fx.edsCluster("svc");
  const opts = at(c, "typedExtensionProtocolOptions", "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  at(opts, "explicitHttpConfig", "http2ProtocolOptions")["maxConcurrentStreams"] = 0;
  assert.deepEqual(brief(ClusterSchema, c), [
    'typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http2_protocol_options.max_concurrent_streams uint32.gte_lte',
  ]);
});

test("Any payloads Envoy never resolves (typed_filter_metadata) are not unpacked", () => {
  const c = parse(ClusterSchema, fx.tlsCluster());
  c.metadata = create(MetadataSchema, {
    typedFilterMetadata: {
      "acme.unknown": { $typeName: "google.protobuf.Any", typeUrl: "type.googleapis.com/acme.Foo", value: new Uint8Array([8, 1]) },
      "acme.cluster": anyPack(ClusterSchema, create(ClusterSchema, { name: "" })),
    },
  });
  assert.deepEqual(validateMessage(ClusterSchema, c), []);
});
