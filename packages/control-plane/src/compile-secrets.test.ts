import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { ListenerSchema, type Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { ClusterSchema, type Cluster } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { SecretSchema, type Secret } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/secret_pb";
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls_pb";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { resourceType, typeUrlOf } from "@ts-control-plane/xds";
import { TestPki } from "@ts-control-plane/xds/testing";
import { compile, createCompiler, type NodeGroupConfig } from "./compile.ts";
import type { ModelObject } from "./model/model-object.ts";

// Secret objects delivered over SDS (issue 13): references, per-group delivery, and the
// point of it all, that a new certificate changes the Secret and leaves the Listener alone.

let pki: TestPki;
const pem: Record<"cert1" | "key1" | "cert2" | "key2" | "ca", string> = { cert1: "", key1: "", cert2: "", key2: "", ca: "" };

before(async () => {
  pki = await TestPki.create({ commonName: "secrets test CA" });
  const one = await pki.issue({ name: "one", commonName: "localhost", sans: ["DNS:localhost"] });
  const two = await pki.issue({ name: "two", commonName: "localhost", sans: ["DNS:localhost"] });
  pem.cert1 = await readFile(one.certFile, "utf8");
  pem.key1 = await readFile(one.keyFile, "utf8");
  pem.cert2 = await readFile(two.certFile, "utf8");
  pem.key2 = await readFile(two.keyFile, "utf8");
  pem.ca = await readFile(pki.caFile, "utf8");
});
after(() => pki.dispose());

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const certSecret = (name = "web-cert", cert = pem.cert1, key = pem.key1): ModelObject => o("Secret", name, { tlsCertificate: { certificate: cert, key } });
const caSecret = (name = "clients-ca", ca = pem.ca): ModelObject => o("Secret", name, { validationContext: { caCertificates: ca } });
const https = (tls: Record<string, unknown>, name = "l", port = 10443): ModelObject => o("Listener", name, { protocol: "HTTPS", port, tls });
const service = (spec: Record<string, unknown> = {}, name = "web"): ModelObject => o("Service", name, { endpoints: [{ address: "127.0.0.1", port: 8081 }], ...spec });
const route = (listeners = ["l"], name = "r"): ModelObject => o("Route", name, { listeners, routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }] }] });

const ofType = <T extends Message>(g: NodeGroupConfig, typeName: string): T[] => g.resources.filter((m) => m.$typeName === typeName) as T[];
const listenersOf = (g: NodeGroupConfig) => ofType<Listener>(g, ListenerSchema.typeName);
const secretsOf = (g: NodeGroupConfig) => ofType<Secret>(g, SecretSchema.typeName);
const group = (r: ReturnType<typeof compile>, name = "default"): NodeGroupConfig => {
  const g = r.groups.find((x) => x.name === name);
  assert.ok(g, `group ${name}`);
  return g;
};
const downstreamTls = (l: Listener) => {
  const ts = l.filterChains[0]?.transportSocket;
  assert.ok(ts?.configType.case === "typedConfig");
  const tls = anyUnpack(ts.configType.value, DownstreamTlsContextSchema);
  assert.ok(tls);
  return tls;
};

test("a listener naming a Secret references it over SDS on ADS, and the group gets the Secret resource", () => {
  const r = compile([https({ secret: "web-cert" }), certSecret(), service(), route()]);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  const g = group(r);
  const [listener] = listenersOf(g);
  assert.ok(listener);
  const tls = downstreamTls(listener);
  const common = tls.commonTlsContext;
  assert.equal(common?.tlsCertificates.length, 0, "no inline certificate in the listener");
  assert.equal(common?.tlsCertificateSdsSecretConfigs.length, 1);
  const sds = common?.tlsCertificateSdsSecretConfigs[0];
  assert.equal(sds?.name, "web-cert");
  assert.equal(sds?.sdsConfig?.configSourceSpecifier.case, "ads");
  assert.equal(sds?.sdsConfig?.resourceApiVersion, 2, "resource_api_version: V3");
  assert.deepEqual(common?.alpnProtocols, ["h2", "http/1.1"]);
  assert.equal(tls.requireClientCertificate, undefined);
  const [secret] = secretsOf(g);
  assert.equal(secret?.name, "web-cert");
  assert.equal(secret?.type.case, "tlsCertificate");
  if (secret?.type.case === "tlsCertificate") {
    assert.deepEqual(secret.type.value.certificateChain?.specifier, { case: "inlineString", value: pem.cert1 });
    assert.deepEqual(secret.type.value.privateKey?.specifier, { case: "inlineString", value: pem.key1 });
  }
  assert.ok(g.objects.includes("Secret/web-cert"));
  assert.deepEqual(g.resourceObjects.get("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")?.get("web-cert"), ["Secret/web-cert"]);
});

test("rotation: a new certificate in the Secret changes only the Secret; the Listener stays byte-identical", () => {
  const objects = [https({ secret: "web-cert" }), certSecret(), service(), route()];
  const rotated = [objects[0] as ModelObject, certSecret("web-cert", pem.cert2, pem.key2), ...objects.slice(2)];
  const bytes = (g: NodeGroupConfig) => new Map(g.resources.map((m) => [`${m.$typeName} ${(m as { name?: string }).name ?? ""}`, Buffer.from(toBinary(schemaOf(m), m)).toString("hex")]));
  // Both the one-shot compile and the incremental compiler the runtime uses.
  const compiler = createCompiler();
  for (const [label, run] of [["compile", (x: ModelObject[]) => compile(x)], ["createCompiler", (x: ModelObject[]) => compiler.compile(x)]] as const) {
    const before = bytes(group(run(objects)));
    const after = bytes(group(run(rotated)));
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    assert.deepEqual(changed, [`${SecretSchema.typeName} web-cert`], `${label}: only the Secret changed`);
    assert.equal(after.size, before.size, `${label}: same resources`);
  }
});

test("inline listener tls stays inline, with no Secret resource", () => {
  const g = group(compile([https({ certificate: pem.cert1, key: pem.key1 }), service(), route()]));
  const [listener] = listenersOf(g);
  assert.ok(listener);
  assert.equal(downstreamTls(listener).commonTlsContext?.tlsCertificates.length, 1);
  assert.deepEqual(secretsOf(g), []);
});

test("clientValidationSecret requires client certificates and verifies them with the CA bundle Secret", () => {
  const g = group(compile([https({ secret: "web-cert", clientValidationSecret: "clients-ca" }), certSecret(), caSecret(), service(), route()]));
  const [listener] = listenersOf(g);
  assert.ok(listener);
  const tls = downstreamTls(listener);
  assert.equal(tls.requireClientCertificate, true);
  const v = tls.commonTlsContext?.validationContextType;
  assert.equal(v?.case, "validationContextSdsSecretConfig");
  assert.equal(v?.case === "validationContextSdsSecretConfig" ? v.value.name : "", "clients-ca");
  const secrets = secretsOf(g);
  assert.deepEqual(secrets.map((s) => s.name), ["clients-ca", "web-cert"], "sorted by name");
  const ca = secrets[0];
  assert.equal(ca?.type.case, "validationContext");
  if (ca?.type.case === "validationContext") assert.deepEqual(ca.type.value.trustedCa?.specifier, { case: "inlineString", value: pem.ca });
});

test("a Service's upstream TLS verifies with validationSecret and presents clientSecret", () => {
  const svc = service({ tls: { sni: "web.internal", validationSecret: "upstream-ca", clientSecret: "client-cert" } });
  const r = compile([o("Listener", "l", { protocol: "HTTP", port: 10000 }), svc, route(), caSecret("upstream-ca"), certSecret("client-cert")]);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  const g = group(r);
  const [cluster] = ofType<Cluster>(g, ClusterSchema.typeName);
  const ts = cluster?.transportSocket;
  assert.ok(ts?.configType.case === "typedConfig");
  const tls = anyUnpack(ts.configType.value, UpstreamTlsContextSchema);
  assert.equal(tls?.sni, "web.internal");
  assert.deepEqual(tls?.commonTlsContext?.tlsCertificateSdsSecretConfigs.map((c) => c.name), ["client-cert"]);
  const v = tls?.commonTlsContext?.validationContextType;
  assert.equal(v?.case === "validationContextSdsSecretConfig" ? v.value.name : "", "upstream-ca");
  assert.deepEqual(secretsOf(g).map((s) => s.name), ["client-cert", "upstream-ca"]);
});

test("a reference to a missing Secret refuses the listener, naming the reference and the fix", () => {
  const r = compile([https({ secret: "web-crt" }), certSecret(), service(), route()]);
  const d = r.diagnostics.find((x) => x.code === "ref.not_found");
  assert.deepEqual(
    d && { object: d.object, path: d.path, message: d.message, hint: d.hint },
    { object: "Listener/l", path: "spec.tls.secret", message: "Secret 'web-crt' does not exist", hint: "define Secret 'web-crt' or use one of: web-cert" },
  );
  assert.ok(r.rejected.includes("Listener/l"));
  assert.deepEqual(listenersOf(group(r)), []);
  assert.deepEqual(secretsOf(group(r)), [], "an unused Secret is sent to no one");
});

test("a Service naming a missing Secret is refused, and so is the route that needs it", () => {
  const r = compile([o("Listener", "l", { protocol: "HTTP", port: 10000 }), service({ tls: { validationSecret: "nope" } }), route()]);
  const d = r.diagnostics.find((x) => x.code === "ref.not_found");
  assert.equal(d?.object, "Service/web");
  assert.equal(d?.path, "spec.tls.validationSecret");
  assert.deepEqual(r.rejected, ["Route/r", "Service/web"]);
});

test("a Secret of the wrong shape is refused where it is referenced", () => {
  const r = compile([https({ secret: "clients-ca", clientValidationSecret: "web-cert" }), certSecret(), caSecret(), service(), route()]);
  const wrong = r.diagnostics.filter((x) => x.code === "ref.wrong_secret_type").map((x) => ({ path: x.path, message: x.message, hint: x.hint }));
  assert.deepEqual(wrong, [
    { path: "spec.tls.clientValidationSecret", message: "Secret 'web-cert' holds tlsCertificate, but clientValidationSecret needs a Secret with validationContext", hint: "point clientValidationSecret at a Secret with validationContext (caCertificates)" },
    { path: "spec.tls.secret", message: "Secret 'clients-ca' holds validationContext, but secret needs a Secret with tlsCertificate", hint: "point secret at a Secret with tlsCertificate (certificate and key)" },
  ]);
  assert.ok(r.rejected.includes("Listener/l"));
});

test("a refused Secret refuses what references it (ref.rejected)", () => {
  const r = compile([https({ secret: "web-cert" }), certSecret("web-cert", pem.cert1, pem.key2), service(), route()]);
  assert.ok(r.diagnostics.some((d) => d.code === "tls.key_mismatch" && d.object === "Secret/web-cert" && d.path === "spec.tlsCertificate.key"));
  const d = r.diagnostics.find((x) => x.code === "ref.rejected");
  assert.equal(d?.object, "Listener/l");
  assert.equal(d?.hint, "fix the errors reported on Secret/web-cert first");
});

test("a listener with both a Secret and an inline certificate is refused", () => {
  const r = compile([https({ secret: "web-cert", certificate: pem.cert1 }), certSecret(), service(), route()]);
  const d = r.diagnostics.find((x) => x.code === "tls.secret_and_inline");
  assert.equal(d?.path, "spec.tls.certificate");
  assert.ok(r.rejected.includes("Listener/l"));
});

test("only the node groups whose listeners use a Secret receive it", () => {
  const objects = [
    o("NodeGroup", "edge", { selector: { clusters: ["edge"] }, listeners: ["l"] }),
    o("NodeGroup", "inner", { selector: { clusters: ["inner"] }, listeners: ["plain"] }),
    https({ secret: "web-cert" }),
    o("Listener", "plain", { protocol: "HTTP", port: 10000 }),
    certSecret(),
    certSecret("unused"),
    service(),
    route(["l", "plain"]),
  ];
  const r = compile(objects);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  assert.deepEqual(secretsOf(group(r, "edge")).map((s) => s.name), ["web-cert"]);
  assert.deepEqual(secretsOf(group(r, "inner")), []);
  assert.ok(!group(r, "inner").objects.includes("Secret/web-cert"));
  // Deterministic: any input order gives the same bytes.
  const again = compile([...objects].reverse());
  const hex = (x: ReturnType<typeof compile>) => x.groups.map((g) => g.resources.map((m) => Buffer.from(toBinary(schemaOf(m), m)).toString("hex")));
  assert.deepEqual(hex(again), hex(r));
});

function schemaOf(m: Message): DescMessage {
  const schema = resourceType(typeUrlOf(m.$typeName))?.schema;
  assert.ok(schema, m.$typeName);
  return schema;
}

test("compile with the runtime's clock warns about an expired Secret certificate without refusing anything", () => {
  const objects = [https({ secret: "web-cert" }), certSecret(), service(), route()];
  const farFuture = Date.now() + 365 * 24 * 3600 * 1000;
  const r = compile(objects, { now: () => farFuture });
  const d = r.diagnostics.find((x) => x.code === "tls.expired");
  assert.deepEqual(d && { severity: d.severity, object: d.object, path: d.path }, { severity: "warning", object: "Secret/web-cert", path: "spec.tlsCertificate.certificate" });
  assert.deepEqual(r.rejected, []);
  assert.deepEqual(secretsOf(group(r)).map((s) => s.name), ["web-cert"]);
  assert.equal(compile(objects).diagnostics.filter((x) => x.code === "tls.expired").length, 0, "no clock, no expiry check");
});
