import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { resolveFileReferences } from "./resolve-file-references.ts";

const object = (kind: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name: "x" }, spec }) as ModelObject;

test("caCertificatesFile and certificate files inside a tls.certificates list are read into inline PEM", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-resolve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "ca.pem"), "CA PEM");
  writeFileSync(join(dir, "a.crt"), "CERT PEM");
  writeFileSync(join(dir, "a.key"), "KEY PEM");
  const secret = resolveFileReferences(object("Secret", { validationContext: { caCertificatesFile: "ca.pem" } }), { baseDir: dir });
  assert.deepEqual(secret.diagnostics, []);
  assert.deepEqual(secret.object.spec, { validationContext: { caCertificatesFile: "ca.pem", caCertificates: "CA PEM" } });
  const listener = resolveFileReferences(object("Listener", { tls: { certificates: [{ certificateFile: "a.crt", keyFile: "a.key", serverNames: ["a.example.com"] }] } }), { baseDir: dir });
  assert.deepEqual(listener.diagnostics, []);
  assert.deepEqual(listener.object.spec, { tls: { certificates: [{ certificateFile: "a.crt", keyFile: "a.key", serverNames: ["a.example.com"], certificate: "CERT PEM", key: "KEY PEM" }] } });
  const missing = resolveFileReferences(object("Secret", { validationContext: { caCertificatesFile: "nope.pem" } }), { baseDir: dir });
  assert.deepEqual(missing.diagnostics.map((d) => [d.code, d.path]), [["file.unreadable", "spec.validationContext.caCertificatesFile"]]);
});
