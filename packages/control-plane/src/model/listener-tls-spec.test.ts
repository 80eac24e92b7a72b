import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ListenerSpec } from "./listener-spec.ts";
import type { Diagnostic } from "./model-object.ts";
import { validateObject } from "./validate-object.ts";

const certs = join(import.meta.dirname, "..", "..", "..", "..", "examples", "control-plane", "certs");
const certificate = readFileSync(join(certs, "localhost.crt"), "utf8");
const key = readFileSync(join(certs, "localhost.key"), "utf8");

const object = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const listener = (tls: Record<string, unknown>) => validateObject(object("Listener", "l", { protocol: "HTTPS", port: 8443, tls }));
const tlsOf = (r: ReturnType<typeof listener>) => (r.valid?.spec as ListenerSpec | undefined)?.tls;
const errors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.severity === "error").map((d) => ({ code: d.code, path: d.path }));

test("the short form is one default certificate; ALPN defaults to h2 and http/1.1", () => {
  assert.deepEqual(tlsOf(listener({ secret: "web" })), { certificates: [{ secret: "web", serverNames: [] }], certificatesListed: false, alpn: ["h2", "http/1.1"] });
});

test("certificates by SNI: names lowercased and sorted, client certificates, minimum version and ALPN", () => {
  const r = listener({
    certificates: [{ secret: "api", serverNames: ["API.example.com", "*.api.example.com"] }, { certificate, key }],
    clientValidationSecret: "clients",
    clientCertificate: "optional",
    minVersion: "TLSv1_3",
    alpn: ["http/1.1"],
  });
  assert.deepEqual(errors(r), []);
  assert.deepEqual(tlsOf(r), {
    certificates: [
      { secret: "api", serverNames: ["*.api.example.com", "api.example.com"] },
      { certificate, key, serverNames: [] },
    ],
    certificatesListed: true,
    clientValidationSecret: "clients",
    clientCertificate: "optional",
    minVersion: "TLSv1_3",
    alpn: ["http/1.1"],
  });
});

test("bad server names, two defaults, a name served twice and mixed forms are diagnostics with their paths", () => {
  assert.deepEqual(errors(listener({ certificates: [{ secret: "a", serverNames: ["not a name", "api.*.com"] }, { secret: "b" }] })), [
    { code: "tls.invalid_server_name", path: "spec.tls.certificates[0].serverNames[0]" },
    { code: "tls.invalid_server_name", path: "spec.tls.certificates[0].serverNames[1]" },
  ]);
  assert.deepEqual(errors(listener({ certificates: [{ secret: "a" }, { secret: "b" }] })), [{ code: "tls.two_defaults", path: "spec.tls.certificates[1]" }]);
  assert.deepEqual(errors(listener({ certificates: [{ secret: "a", serverNames: ["x.example.com"] }, { secret: "b", serverNames: ["X.example.com"] }] })), [
    { code: "tls.duplicate_server_name", path: "spec.tls.certificates[1].serverNames[0]" },
  ]);
  assert.deepEqual(errors(listener({ secret: "a", certificates: [{ secret: "b" }] })), [{ code: "tls.certificates_and_short_form", path: "spec.tls.secret" }]);
  assert.deepEqual(errors(listener({ certificates: [{ secret: "a", certificate }] })), [{ code: "tls.secret_and_inline", path: "spec.tls.certificates[0].certificate" }]);
  const missing = listener({ certificates: [{ certificate }] });
  assert.deepEqual(errors(missing), [{ code: "schema.required", path: "spec.tls.certificates[0].key" }]);
  assert.match(missing.diagnostics[0]?.hint ?? "", /certificates\[0\]\.key/);
});

test("TLS versions, client certificate modes and ALPN lists are checked", () => {
  const v = listener({ secret: "a", minVersion: "TLSv1_1" });
  assert.deepEqual(errors(v), [{ code: "schema.enum", path: "spec.tls.minVersion" }]);
  assert.match(v.diagnostics[0]?.message ?? "", /TLSv1_2, TLSv1_3/);
  assert.deepEqual(errors(listener({ secret: "a", clientCertificate: "optional" })), [{ code: "tls.client_certificate_without_ca", path: "spec.tls.clientCertificate" }]);
  assert.deepEqual(errors(listener({ secret: "a", clientValidationSecret: "c", clientCertificate: "sometimes" })), [{ code: "schema.enum", path: "spec.tls.clientCertificate" }]);
  assert.deepEqual(errors(listener({ secret: "a", alpn: ["h2", "h2"] })), [{ code: "schema.duplicate", path: "spec.tls.alpn" }]);
  assert.deepEqual(errors(listener({ secret: "a", alpn: [] })), [{ code: "schema.min_items", path: "spec.tls.alpn" }]);
});

test("an inline certificate that does not cover one of its serverNames is a warning on that name", () => {
  // localhost.crt is for localhost (and 127.0.0.1) only.
  const r = listener({ certificates: [{ certificate, key, serverNames: ["localhost", "api.example.com", "*.example.com"] }, { secret: "default" }] });
  assert.deepEqual(errors(r), []);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === "warning").map((d) => ({ code: d.code, path: d.path })),
    [
      { code: "tls.server_name_not_in_certificate", path: "spec.tls.certificates[0].serverNames[1]" },
      { code: "tls.server_name_not_in_certificate", path: "spec.tls.certificates[0].serverNames[2]" },
    ],
  );
  assert.ok(r.valid !== undefined, "a warning does not refuse the listener");
});
