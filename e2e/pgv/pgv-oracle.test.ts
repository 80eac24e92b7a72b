// Oracle: our PGV verdict against the real Envoy's. Each case is one resource,
// valid or breaking exactly one rule; it goes into a static bootstrap that Envoy
// checks with `--mode validate` (no listeners bound, nothing served), and
// Envoy's exit code must agree with whether validateMessage found violations.
// When both reject, Envoy's "Proto constraint validation failed (...)" text must
// contain our message, so the wording users see from us matches Envoy's, and
// the field chain it names must be the tail of our violation's path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromJson, type DescMessage, type JsonObject, type Message, type Registry } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { envoyRegistry, typedStructAny, validateMessage } from "@ts-control-plane/xds";
import { envoyJsonFixtures as fx } from "@ts-control-plane/xds/testing";
import { chainMatches, envoyChain } from "./envoy-error-chain.ts";
import { envoySays, envoyValidate, mapLimited } from "./envoy-validate.ts";
import { at, type Json, mutate, staticCluster } from "./oracle-resources.ts";

interface Case {
  readonly name: string;
  readonly kind: "cluster" | "listener";
  readonly resource: JsonObject;
  /** The rule we expect to break, or undefined for a valid resource. */
  readonly rule?: string;
  /** Envoy words this one differently (it fails before PGV runs); only the verdict is compared. */
  readonly verdictOnly?: boolean;
  /** Our side's message when it cannot be parsed from `resource`. */
  readonly ours?: (registry: Registry) => Message;
}

const UNKNOWN_TYPE = "type.googleapis.com/acme.filters.Unknown";

const hcmOf = (l: Json): Json => at(l, "filterChains", 0, "filters", 0, "typedConfig");
const routesOf = (l: Json): Json[] => at(hcmOf(l), "routeConfig", "virtualHosts", 0)["routes"] as Json[];


/** A listener whose HCM is an `xds.type.v3.TypedStruct` (JSON plus type URL), which Envoy converts and validates. */
function typedStructCase(name: string, change: (hcm: JsonObject) => JsonObject, rule?: string): Case {
  const hcm = { ...hcmOf(fx.hcmListener() as Json) } as JsonObject;
  const hcmUrl = hcm["@type"] as string;
  delete hcm["@type"];
  const value = change(hcm);
  const resource = mutate(fx.hcmListener() as Json, (l) => {
    at(l, "filterChains", 0, "filters", 0)["typedConfig"] = { "@type": "type.googleapis.com/xds.type.v3.TypedStruct", typeUrl: hcmUrl, value };
  }) as JsonObject;
  return {
    name,
    kind: "listener",
    resource,
    ...(rule ? { rule } : {}),
    // TypedStruct is not in the generated API, so protobuf-es cannot read this JSON; pack it ourselves.
    ours: (registry) => {
      const l = fromJson(ListenerSchema, fx.hcmListener(), { registry });
      l.filterChains[0]!.filters[0]!.configType = { case: "typedConfig", value: typedStructAny(hcmUrl, value) };
      return l;
    },
  };
}

const cases: Case[] = [
  { name: "valid cluster with upstream TLS", kind: "cluster", resource: staticCluster() as JsonObject },
  { name: "valid listener with HCM and inline routes", kind: "listener", resource: fx.hcmListener("http", 10000) },
  { name: "valid listener with rate limits, CORS, faults, access log, TCP proxy", kind: "listener", resource: fx.richHcmListener() },
  { name: "valid cluster with HTTP/2 options, least request, priorities", kind: "cluster", resource: fx.richCluster() },
  { name: "cluster without a name", kind: "cluster", rule: "string.min_len", resource: mutate(staticCluster(), (c) => void (c["name"] = "")) as JsonObject },
  {
    name: "cluster with a zero connect timeout",
    kind: "cluster",
    rule: "duration.gt",
    resource: mutate(staticCluster(), (c) => void (c["connectTimeout"] = "0s")) as JsonObject,
  },
  {
    name: "endpoint port above 65535",
    kind: "cluster",
    rule: "uint32.lte",
    resource: mutate(staticCluster(), (c) => {
      at(c, "loadAssignment", "endpoints", 0, "lbEndpoints", 0, "endpoint", "address", "socketAddress")["portValue"] = 70000;
    }) as JsonObject,
  },
  {
    name: "endpoint weight 0 (wrapper gte)",
    kind: "cluster",
    rule: "uint32.gte",
    resource: mutate(staticCluster(), (c) => void (at(c, "loadAssignment", "endpoints", 0, "lbEndpoints", 1)["loadBalancingWeight"] = 0)) as JsonObject,
  },
  {
    name: "outlier max_ejection_percent 101 (wrapper lte)",
    kind: "cluster",
    rule: "uint32.lte",
    resource: mutate(staticCluster(), (c) => void (at(c, "outlierDetection")["maxEjectionPercent"] = 101)) as JsonObject,
  },
  {
    name: "SNI longer than 255 bytes inside the TLS Any",
    kind: "cluster",
    rule: "string.max_bytes",
    resource: mutate(staticCluster(), (c) => void (at(c, "transportSocket", "typedConfig")["sni"] = "a".repeat(256))) as JsonObject,
  },
  {
    name: "HCM with an empty stat_prefix",
    kind: "listener",
    rule: "string.min_len",
    resource: mutate(fx.hcmListener() as Json, (l) => void (hcmOf(l)["statPrefix"] = "")) as JsonObject,
  },
  {
    name: "virtual host without domains",
    kind: "listener",
    rule: "repeated.min_items",
    resource: mutate(fx.hcmListener() as Json, (l) => void (at(hcmOf(l), "routeConfig", "virtualHosts", 0)["domains"] = [])) as JsonObject,
  },
  {
    name: "path_separated_prefix ending in / (RE2 pattern)",
    kind: "listener",
    rule: "string.pattern",
    resource: mutate(fx.hcmListener() as Json, (l) => void (at(routesOf(l)[2], "match")["pathSeparatedPrefix"] = "/static/")) as JsonObject,
  },
  {
    name: "route without an action (oneof required)",
    kind: "listener",
    rule: "oneof.required",
    resource: mutate(fx.hcmListener() as Json, (l) => void delete routesOf(l)[3]!["redirect"]) as JsonObject,
  },
  {
    name: "header matcher name with a newline (loose header regex)",
    kind: "listener",
    rule: "string.well_known_regex.header_name",
    resource: mutate(fx.hcmListener() as Json, (l) => void (at(routesOf(l)[0], "match", "headers", 0)["name"] = "x-bad\nname")) as JsonObject,
  },
  {
    name: "health check path with a control character (strict header value)",
    kind: "cluster",
    rule: "string.well_known_regex.header_value",
    resource: mutate(staticCluster(), (c) => void (at(c, "healthChecks", 0, "httpHealthCheck")["path"] = "/healthz\u0001")) as JsonObject,
  },
  {
    name: "custom IP detection header with a space (strict header name)",
    kind: "listener",
    rule: "string.well_known_regex.header_name",
    resource: mutate(fx.hcmListener() as Json, (l) => {
      hcmOf(l)["originalIpDetectionExtensions"] = [
        {
          name: "envoy.http.original_ip_detection.custom_header",
          typedConfig: {
            "@type": "type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig",
            headerName: "x real ip",
          },
        },
      ];
      hcmOf(l)["useRemoteAddress"] = false;
    }) as JsonObject,
  },
  {
    name: "HCM typed_config of an unknown type",
    kind: "listener",
    rule: "any.type_url",
    verdictOnly: true,
    resource: mutate(fx.hcmListener() as Json, (l) => void (at(l, "filterChains", 0, "filters", 0)["typedConfig"] = { "@type": UNKNOWN_TYPE })) as JsonObject,
    // protobuf-es cannot parse JSON naming an unknown type, so our side swaps the Any in after parsing.
    ours: (registry) => {
      const l = fromJson(ListenerSchema, fx.hcmListener(), { registry });
      l.filterChains[0]!.filters[0]!.configType = { case: "typedConfig", value: create(AnySchema, { typeUrl: UNKNOWN_TYPE }) };
      return l;
    },
  },
  {
    name: "health check without unhealthy_threshold (message required)",
    kind: "cluster",
    rule: "message.required",
    resource: mutate(staticCluster(), (c) => void delete at(c, "healthChecks", 0)["unhealthyThreshold"]) as JsonObject,
  },
  {
    name: "health check without timeout (duration required)",
    kind: "cluster",
    rule: "duration.required",
    resource: mutate(staticCluster(), (c) => void delete at(c, "healthChecks", 0)["timeout"]) as JsonObject,
  },
  {
    name: "lb_policy 42 (enum defined_only)",
    kind: "cluster",
    rule: "enum.defined_only",
    resource: mutate(staticCluster(), (c) => void (c["lbPolicy"] = 42)) as JsonObject,
  },
  {
    name: "route without match (message required)",
    kind: "listener",
    rule: "message.required",
    resource: mutate(fx.hcmListener() as Json, (l) => void delete routesOf(l)[1]!["match"]) as JsonObject,
  },
  {
    name: "six internal redirect codes (repeated max_items)",
    kind: "listener",
    rule: "repeated.max_items",
    resource: mutate(fx.hcmListener() as Json, (l) => {
      at(routesOf(l)[0], "route")["internalRedirectPolicy"] = { redirectResponseCodes: [301, 302, 303, 307, 308, 301] };
    }) as JsonObject,
  },
  {
    name: "listener filter disabled with any_match false (bool const)",
    kind: "listener",
    rule: "bool.const",
    resource: mutate(fx.hcmListener() as Json, (l) => {
      l["listenerFilters"] = [
        {
          name: "envoy.filters.listener.tls_inspector",
          typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" },
          filterDisabled: { anyMatch: false },
        },
      ];
    }) as JsonObject,
  },
  {
    name: "scheme_to_overwrite ftp (string in)",
    kind: "listener",
    rule: "string.in",
    resource: mutate(fx.hcmListener() as Json, (l) => void (hcmOf(l)["schemeHeaderTransformation"] = { schemeToOverwrite: "ftp" })) as JsonObject,
  },
  {
    name: "metadata with an empty filter name (map keys)",
    kind: "cluster",
    rule: "string.min_len",
    resource: mutate(staticCluster(), (c) => void (c["metadata"] = { filterMetadata: { "": { a: 1 } } })) as JsonObject,
  },
  {
    name: "an invalid Cluster inside typed_filter_metadata (Envoy does not look inside)",
    kind: "cluster",
    resource: mutate(staticCluster(), (c) => {
      c["metadata"] = { typedFilterMetadata: { "acme.meta": { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "" } } };
    }) as JsonObject,
  },
  typedStructCase("HCM written as a TypedStruct", (hcm) => hcm),
  typedStructCase("TypedStruct HCM with an empty stat_prefix", (hcm) => ({ ...hcm, statPrefix: "" }), "string.min_len"),
  {
    name: "header matcher name with a space (loose regex accepts it)",
    kind: "listener",
    resource: mutate(fx.hcmListener() as Json, (l) => void (at(routesOf(l)[0], "match", "headers", 0)["name"] = "x odd")) as JsonObject,
  },
];

const schemaOf = (c: Case): DescMessage => (c.kind === "cluster" ? ClusterSchema : ListenerSchema);

test("our PGV verdicts agree with Envoy's --mode validate", { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "pgv-oracle-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const registry = envoyRegistry();
  const verdicts = await mapLimited(cases, 3, (c, i) => envoyValidate(dir, c, `case-${i}.json`));
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const schema = schemaOf(c);
    const ours = validateMessage(schema, c.ours ? c.ours(registry) : fromJson(schema, c.resource, { registry }));
    const envoy = verdicts[i]!;
    const pgvLine = envoy.pgv;
    const show = `\n  ours:  ${ours.length === 0 ? "valid" : ours.map((v) => `${v.path} [${v.rule}] ${v.message}`).join("; ")}\n  envoy: exit ${envoy.code}: ${envoySays(envoy)}`;
    if ((envoy.code === 0) !== (ours.length === 0)) failures.push(`${c.name}: verdicts differ${show}`);
    else if (c.rule !== undefined && !ours.some((v) => v.rule === c.rule)) failures.push(`${c.name}: expected rule ${c.rule}${show}`);
    else if (ours.length > 0 && !c.verdictOnly && !ours.some((v) => envoy.output.includes(v.message))) {
      failures.push(`${c.name}: Envoy's message differs from ours${show}`);
    } else if (pgvLine !== undefined && !ours.some((v) => chainMatches(v.path, pgvLine))) {
      failures.push(`${c.name}: Envoy's field path is not the tail of ours${show}\n  envoy path: ${envoyChain(pgvLine).join(".")}`);
    } else t.diagnostic(`${c.name}: agree${show}`);
  });
  assert.deepEqual(failures, [], failures.join("\n"));
});
