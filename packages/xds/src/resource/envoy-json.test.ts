import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@bufbuild/protobuf";
import type { Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { envoyFromJson, envoyToJson } from "./envoy-json.ts";
import { XdsError } from "./xds-error.ts";

// A cluster as an operator writes it in Envoy's own config: durations as
// strings, enums by name, a wrapper, and an Any with @type.
const clusterJson: JsonValue = {
  "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  name: "xds_demo_cluster",
  connect_timeout: "3s",
  type: "STRICT_DNS",
  dns_lookup_family: "V4_ONLY",
  lb_policy: "LEAST_REQUEST", // not the default, which proto3 JSON omits
  per_connection_buffer_limit_bytes: 32768,
  load_assignment: {
    cluster_name: "xds_demo_cluster",
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "www.example.com", port_value: 443 } } } }] }],
  },
  transport_socket: {
    name: "envoy.transport_sockets.tls",
    typed_config: { "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", sni: "www.example.com" },
  },
};

test("Envoy's own JSON parses into a typed message and round-trips", () => {
  const cluster = envoyFromJson(clusterJson) as Cluster;
  assert.equal(cluster.$typeName, "envoy.config.cluster.v3.Cluster");
  assert.equal(cluster.name, "xds_demo_cluster");
  assert.equal(cluster.connectTimeout?.seconds, 3n);
  assert.equal(cluster.perConnectionBufferLimitBytes, 32768); // wrappers are unboxed by protobuf-es
  assert.equal(cluster.transportSocket?.configType.case, "typedConfig");
  const { "@type": _, ...rest } = clusterJson as Record<string, JsonValue>;
  assert.deepEqual(envoyToJson(cluster), rest);
});

test("an unknown field is an error that names it", () => {
  assert.throws(
    () => envoyFromJson({ "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "x", conect_timeout: "1s" }),
    (e: unknown) => e instanceof XdsError && e.code === "invalid_resource" && /conect_timeout/.test(e.message),
  );
});

test("a missing or unknown @type is an error that says what is needed", () => {
  assert.throws(() => envoyFromJson({ name: "x" }), /needs '@type'/);
  assert.throws(() => envoyFromJson({ "@type": "type.googleapis.com/no.Such" }), /unknown Envoy type 'no.Such'/);
});
