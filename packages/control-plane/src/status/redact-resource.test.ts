// CSDS never shows private keys (issue 13), while xDS itself still sends them to the proxy.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, fromJson, type JsonValue, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { ClientStatusRequestSchema, ClientStatusResponseSchema } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { createSnapshot, createSnapshotCache, createXdsServer, envoyRegistry, TypeUrl, type XdsServer } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { redactedPlaceholder } from "../log/redact-secrets.ts";
import { redactResource } from "./redact-resource.ts";

const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keyLines = key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
const keyBase64 = Buffer.from(key).toString("base64");

const message = (json: Record<string, unknown>) => {
  const any = fromJson(AnySchema, json as JsonValue, { registry: envoyRegistry() });
  const type = envoyRegistry().getMessage(any.typeUrl.split("/")[1] ?? "");
  assert.ok(type);
  return fromBinary(type, any.value);
};
const secret = message({
  "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
  name: "edge-cert",
  tls_certificate: { certificate_chain: { inline_string: "CERT" }, private_key: { inline_bytes: keyBase64 } },
});
const listener = message({
  "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
  name: "https",
  address: { socket_address: { address: "0.0.0.0", port_value: 8443 } },
  filter_chains: [
    {
      filters: [{ name: "tcp", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", stat_prefix: "s", cluster: "c" } }],
      transport_socket: {
        name: "envoy.transport_sockets.tls",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
          common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: "CERT" }, private_key: { inline_string: key } }] },
        },
      },
    },
  ],
});

/** Every way the key could show up in bytes: PEM body lines (raw or inside base64 JSON) and the base64 of the whole key. */
const leaks = (bytes: Uint8Array): string[] => {
  const text = Buffer.from(bytes).toString("latin1");
  return [...keyLines, keyBase64.slice(0, 48)].filter((n) => text.includes(n));
};

describe("CSDS with redactResource", () => {
  let xds: XdsServer;
  let port: number;
  let client: RawXdsClient;
  let csds: grpc.Client;
  const cache = createSnapshotCache({ ads: true });
  before(async () => {
    xds = createXdsServer({ cache, csds: { redact: redactResource } });
    port = await xds.listen({ host: "127.0.0.1", port: 0 });
    await cache.setSnapshot("edge-1", createSnapshot({ resources: [secret, listener] }));
    client = new RawXdsClient({ port, nodeId: "edge-1" });
    csds = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    csds.close();
    await xds.close({ graceMs: 0 });
  });

  it("sends the key over xDS but shows only its placeholder over CSDS, certificates kept", async () => {
    client.send({ typeUrl: TypeUrl.Secret, resourceNames: ["edge-cert"] });
    const sds = await client.next();
    assert.ok(sds.resources.some((r) => leaks(r.value).length > 0), "the proxy gets its key: the serving path is unchanged");
    client.ack(sds, ["edge-cert"]);
    client.send({ typeUrl: TypeUrl.Listener });
    const lds = await client.next();
    client.ack(lds);

    const request = Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {})));
    const answer = await new Promise<Buffer>((resolve, reject) =>
      csds.makeUnaryRequest("/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus", (b: Buffer) => b, (b: Buffer) => b, request, (e, v) => (e || !v ? reject(e) : resolve(v))),
    );
    assert.deepEqual(leaks(answer), [], "no key material anywhere in the CSDS answer");
    const configs = fromBinary(ClientStatusResponseSchema, answer).config.flatMap((c) => c.genericXdsConfigs);
    assert.deepEqual(configs.map((g) => g.name).sort(), ["edge-cert", "https"]);
    const shown = Buffer.from(configs.find((g) => g.name === "edge-cert")?.xdsConfig?.value ?? new Uint8Array()).toString("latin1");
    assert.ok(shown.includes(redactedPlaceholder(Buffer.from(key))), "the placeholder, as the bytes of the key field");
    assert.ok(shown.includes("CERT"));
  });

  it("keeps resources without keys byte for byte", () => {
    const bytes = new Uint8Array([10, 1, 99]);
    assert.equal(redactResource({ typeUrl: TypeUrl.Cluster, name: "c", bytes }), bytes);
  });
});
