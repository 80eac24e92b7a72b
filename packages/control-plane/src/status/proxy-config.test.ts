import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { createSnapshot, createSnapshotCache, CsdsResourceVersions, StatusRegistry, TypeUrl } from "@ts-control-plane/xds";
import { compile } from "../compile.ts";
import type { ModelObject } from "../model/model-object.ts";
import { redactSecrets } from "../log/redact-secrets.ts";
import { buildProxyConfig } from "./proxy-config.ts";

const objects = [
  { apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "svc" }, spec: { endpoints: [{ address: "127.0.0.1", port: 8081 }] } },
  { apiVersion: "tcp.dev/v1alpha1", kind: "Listener", metadata: { name: "tcp_a" }, spec: { protocol: "TCP", address: "127.0.0.1", port: 10001, service: "svc" } },
  { apiVersion: "tcp.dev/v1alpha1", kind: "Listener", metadata: { name: "tcp_busy" }, spec: { protocol: "TCP", address: "127.0.0.1", port: 10002, service: "svc" } },
] as unknown as ModelObject[];

async function served() {
  const result = compile(objects);
  const [group] = result.groups;
  assert.ok(group, JSON.stringify(result.diagnostics));
  const cache = createSnapshotCache();
  const snapshot = createSnapshot({ resources: group.resources });
  await cache.setSnapshot(group.name, snapshot);
  const status = new StatusRegistry();
  const resourceVersions = new CsdsResourceVersions({ cache });
  status.streamOpened({ id: "edge-1", cluster: "edge" }, group.name);
  // What a SotW stream records of each response (server/stream-reporter.ts).
  for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener]) {
    const version = snapshot.typeVersion(typeUrl);
    status.subscribed("edge-1", typeUrl, ["*"]);
    status.sent("edge-1", typeUrl, version, "1");
    resourceVersions.recordSotwResponse({ nodeId: "edge-1", cacheKey: group.name, typeUrl, versionInfo: version, resourceNames: [...snapshot.resources(typeUrl).keys()] });
  }
  const sources = { status, cache, resourceVersions };
  const options = { withContents: false, resourceObjects: () => group.resourceObjects };
  return { status, snapshot, sources, options };
}

describe("proxy config", () => {
  it("lists what the node was sent, with versions, per-resource state and the objects behind each", async () => {
    const { status, snapshot, sources, options } = await served();
    const sent = buildProxyConfig("edge-1", sources, options);
    assert.deepEqual(
      sent?.resources.map((r) => [r.type, r.name, r.state, r.objects]),
      [
        ["clusters", "svc", "SENT", ["Service/svc"]],
        ["listeners", "tcp_a", "SENT", ["Listener/tcp_a"]],
        ["listeners", "tcp_busy", "SENT", ["Listener/tcp_busy"]],
        ["endpoints", "svc", "SENT", ["Service/svc"]],
      ],
    );
    assert.equal(sent?.resources[0]?.version, snapshot.typeVersion(TypeUrl.Cluster));
    assert.equal(sent?.resources[0]?.config, undefined, "no bodies unless asked for");
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Endpoint]) status.acked("edge-1", typeUrl, snapshot.typeVersion(typeUrl));
    const message = "Error adding/updating listener(s) tcp_busy: cannot bind '127.0.0.1:10002': Address already in use\n";
    status.nacked("edge-1", TypeUrl.Listener, { version: snapshot.typeVersion(TypeUrl.Listener), nonce: "1", message, code: 13 });
    const after = buildProxyConfig("edge-1", sources, { ...options, typeUrls: new Set([TypeUrl.Listener]), withContents: true });
    assert.deepEqual(after?.resources.map((r) => [r.name, r.state, r.nack?.message]), [
      ["tcp_a", "ACKED", undefined],
      ["tcp_busy", "NACKED", message],
    ]);
    const body = after?.resources[0]?.config as { name?: string } | undefined;
    assert.equal(body?.name, "tcp_a", "the resource as Envoy's JSON");
    assert.equal(buildProxyConfig("nobody", sources, options), undefined);
  });

  it("redacts inline key material under private keys and other secrets, keeping certificates and file names", () => {
    const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    const tls = {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { inline_string: "CERT" }, private_key: { inline_string: key }, password: { inline_bytes: Buffer.from("pw").toString("base64") } }],
      },
      session_ticket_keys: { keys: [{ filename: "/etc/keys/ticket" }] },
    };
    const out = JSON.stringify(redactSecrets({ filter_chains: [{ transport_socket: { typed_config: tls } }] }));
    const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex").slice(0, 12);
    assert.ok(!out.includes("PRIVATE KEY"), out);
    assert.ok(out.includes(`"private_key":{"inline_string":"<redacted sha256:${sha(key)}>"}`), out);
    assert.ok(out.includes(`"password":{"inline_bytes":"<redacted sha256:${sha(Buffer.from("pw"))}>"}`), out);
    assert.ok(out.includes('"certificate_chain":{"inline_string":"CERT"}'), out);
    assert.ok(out.includes('"filename":"/etc/keys/ticket"'), out);
  });
});
