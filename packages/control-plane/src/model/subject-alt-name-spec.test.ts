import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic } from "./model-object.ts";
import type { ServiceSpec } from "./service-spec.ts";
import { validateObject } from "./validate-object.ts";

const service = (tls: Record<string, unknown>) => validateObject({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "s" }, spec: { endpoints: [{ address: "127.0.0.1", port: 9443 }], tls } });
const errors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.severity === "error").map((d) => ({ code: d.code, path: d.path }));

test("upstream subjectAltNames: TYPE:value for DNS, URI, IP and EMAIL", () => {
  const r = service({ validationSecret: "ca", subjectAltNames: ["DNS:backend.internal", "uri:spiffe://example.org/sa/backend", "IP:10.0.0.7", "EMAIL:ops@example.org"] });
  assert.deepEqual(errors(r), []);
  assert.deepEqual((r.valid?.spec as ServiceSpec | undefined)?.tls?.subjectAltNames, [
    { type: "DNS", value: "backend.internal" },
    { type: "URI", value: "spiffe://example.org/sa/backend" },
    { type: "IP", value: "10.0.0.7" },
    { type: "EMAIL", value: "ops@example.org" },
  ]);
});

test("a SAN without a type, with a bad value, or without a CA to verify with is a diagnostic naming the fix", () => {
  const r = service({ validationSecret: "ca", subjectAltNames: ["backend.internal", "IP:10.0.0", "DNS:bad name"] });
  assert.deepEqual(errors(r), [
    { code: "tls.invalid_san", path: "spec.tls.subjectAltNames[0]" },
    { code: "tls.invalid_san", path: "spec.tls.subjectAltNames[1]" },
    { code: "tls.invalid_san", path: "spec.tls.subjectAltNames[2]" },
  ]);
  assert.match(r.diagnostics[0]?.hint ?? "", /DNS:backend.internal/);
  assert.deepEqual(errors(service({ subjectAltNames: ["DNS:backend.internal"] })), [{ code: "tls.san_without_ca", path: "spec.tls.subjectAltNames" }]);
});
