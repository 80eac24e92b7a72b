import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Diagnostic } from "./model-object.ts";
import { validateObject } from "./validate-object.ts";

const certs = join(import.meta.dirname, "..", "..", "..", "..", "examples", "control-plane", "certs");
const cert = readFileSync(join(certs, "localhost.crt"), "utf8");
const key = readFileSync(join(certs, "localhost.key"), "utf8");

const secret = (spec: Record<string, unknown>) => validateObject({ apiVersion: "tcp.dev/v1alpha1", kind: "Secret", metadata: { name: "s" }, spec });
const errors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.severity === "error").map((d) => ({ code: d.code, path: d.path }));

test("a Secret holds a certificate with its key, or a CA bundle", () => {
  assert.deepEqual(secret({ tlsCertificate: { certificate: cert, key } }).valid?.spec, { tlsCertificate: { certificate: cert, key } });
  // A bundle of two certificates is one trust store.
  assert.deepEqual(secret({ validationContext: { caCertificates: `${cert}\n${cert}` } }).valid?.spec, { validationContext: { caCertificates: `${cert}\n${cert}` } });
});

test("a Secret with both shapes, or neither, is refused with the fix", () => {
  const both = secret({ tlsCertificate: { certificate: cert, key }, validationContext: { caCertificates: cert } });
  assert.deepEqual(errors(both), [{ code: "secret.both_shapes", path: "spec" }]);
  assert.match(both.diagnostics[0]?.hint ?? "", /split it into two Secrets/);
  assert.deepEqual(errors(secret({})), [{ code: "schema.required", path: "spec" }]);
});

test("bad PEM, a key of another certificate, unknown fields and unread files are diagnostics with their paths", () => {
  assert.deepEqual(errors(secret({ tlsCertificate: { certificate: "nope", key } })), [{ code: "tls.invalid_certificate", path: "spec.tlsCertificate.certificate" }]);
  assert.deepEqual(errors(secret({ tlsCertificate: { certificate: cert, key: "nope" } })), [{ code: "tls.invalid_key", path: "spec.tlsCertificate.key" }]);
  assert.deepEqual(errors(secret({ tlsCertificate: { certificateFile: "a.pem", keyFile: "a-key.pem" } })), [
    { code: "tls.file_unresolved", path: "spec.tlsCertificate.certificateFile" },
    { code: "tls.file_unresolved", path: "spec.tlsCertificate.keyFile" },
  ]);
  assert.deepEqual(errors(secret({ validationContext: { caCertificates: "not a certificate" } })), [{ code: "tls.invalid_ca", path: "spec.validationContext.caCertificates" }]);
  const broken = `${cert}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
  const r = secret({ validationContext: { caCertificates: broken } });
  assert.deepEqual(errors(r), [{ code: "tls.invalid_ca", path: "spec.validationContext.caCertificates" }]);
  assert.match(r.diagnostics[0]?.message ?? "", /certificate 2 of caCertificates/);
  assert.deepEqual(errors(secret({ validationContext: { caCertificate: cert } })), [
    { code: "schema.unknown_field", path: "spec.validationContext.caCertificate" },
    { code: "schema.required", path: "spec.validationContext.caCertificates" },
  ]);
});

test("with a clock, a certificate outside its validity window is a warning on its path (a Secret's and an inline listener's alike)", () => {
  const { validFrom, validTo } = new X509Certificate(cert);
  const later = Date.parse(validTo) + 1000;
  const earlier = Date.parse(validFrom) - 1000;
  const expired = validateObject({ apiVersion: "tcp.dev/v1alpha1", kind: "Secret", metadata: { name: "s" }, spec: { tlsCertificate: { certificate: cert, key } } }, { nowMs: later });
  assert.ok(expired.valid, "still accepted: a stored certificate that expires must not drop what uses it");
  assert.deepEqual(expired.diagnostics.map((d) => ({ severity: d.severity, code: d.code, path: d.path })), [{ severity: "warning", code: "tls.expired", path: "spec.tlsCertificate.certificate" }]);
  assert.match(expired.diagnostics[0]?.hint ?? "", /renew the certificate/);
  const listener = validateObject({ apiVersion: "tcp.dev/v1alpha1", kind: "Listener", metadata: { name: "l" }, spec: { protocol: "HTTPS", port: 443, tls: { certificate: cert, key } } }, { nowMs: earlier });
  assert.deepEqual(listener.diagnostics.map((d) => ({ severity: d.severity, code: d.code, path: d.path })), [{ severity: "warning", code: "tls.not_yet_valid", path: "spec.tls.certificate" }]);
  // Without a clock nothing time-dependent is checked: the result depends on the object alone.
  assert.deepEqual(secret({ tlsCertificate: { certificate: cert, key } }).diagnostics, []);
});
