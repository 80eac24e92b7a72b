import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "./parse-documents.ts";

const text = `apiVersion: tcp.dev/v1alpha1
kind: Route
metadata:
  name: web
spec:
  listeners: [listener_0]
  routes:
    - match: { prefix: / }
      backends:
        - service: web2
---
# an empty document between separators is fine
---
apiVersion: tcp.dev/v1alpha1
kind: Service
metadata: { name: web, labels: { tier: 1 } }
spec:
  endpoints: [{ address: 127.0.0.1, port: 8081 }]
`;

test("objects, with where each starts and where each field is", () => {
  const r = parseDocuments(text, { file: "app.yaml" });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    r.objects.map((o) => `${o.kind}/${o.metadata.name}`),
    ["Route/web", "Service/web"],
  );
  assert.deepEqual(r.objects[1]?.metadata.labels, { tier: "1" });
  assert.deepEqual(r.sources.get("Route/web"), { file: "app.yaml", line: 1, column: 1 });
  assert.deepEqual(r.sources.get("Service/web"), { file: "app.yaml", line: 14, column: 1 });
  assert.deepEqual(r.locate("Route/web", "spec.routes[0].backends[0].service"), { file: "app.yaml", line: 10, column: 20 });
  // A field that is not written points at the deepest part of the path that is.
  assert.deepEqual(r.locate("Route/web", "spec.routes[0].backends[0].weight"), { file: "app.yaml", line: 10, column: 11 });
  assert.equal(r.locate("Nope/x", "spec"), undefined);
});

test("a raw resource's snake_case diagnostic path finds the field however it is spelled", () => {
  const raw = `kind: RawResource
metadata: { name: edge }
spec:
  resource:
    "@type": type.googleapis.com/envoy.config.listener.v3.Listener
    name: edge
    address:
      socketAddress: { address: 0.0.0.0, portValue: 10001 }
`;
  const r = parseDocuments(raw, { file: "raw.yaml" });
  assert.deepEqual(r.locate("RawResource/edge", "spec.resource.address.socket_address.port_value"), { file: "raw.yaml", line: 8, column: 53 });
});

test("syntax errors, non-mappings, unidentified and duplicate documents are diagnostics, never exceptions", () => {
  const r = parseDocuments("kind: Service\nmetadata: { name: a }\n---\n- a list\n---\nkind: Service\n---\nkind: Service\nmetadata: { name: a }\n---\nfoo: [\n", {
    file: "bad.yaml",
  });
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.source?.line, d.path]),
    [
      ["document.not_object", 4, undefined],
      ["document.unidentified", 6, "metadata.name"],
      ["object.duplicate", 8, "metadata.name"],
      ["yaml.syntax", 12, undefined],
    ],
  );
  assert.equal(r.objects.length, 1);
  assert.equal(r.diagnostics[2]?.hint, "rename one of them or remove the duplicate; the first definition is at line 1");
});

test("empty input is no objects", () => {
  assert.deepEqual(parseDocuments("").objects, []);
  assert.deepEqual(parseDocuments("# only a comment\n").diagnostics, []);
});

// Issue 12: keys outside spec used to be dropped without a word.
test("an endpoints block de-indented out of spec is refused, with a hint to indent it", () => {
  const r = parseDocuments("apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata: { name: web }\nspec:\nendpoints:\n  - { address: 127.0.0.1, port: 8081 }\n", {
    file: "svc.yaml",
  });
  assert.deepEqual(
    r.diagnostics.map((d) => [d.severity, d.code, d.object, d.path, d.source?.line, d.hint]),
    [["error", "schema.unknown_field", "Service/web", "endpoints", 6, "'endpoints' is a field of Service spec: indent it under spec:"]],
  );
});

test("unknown keys at the top level and under metadata are errors with a path, a position and a did-you-mean", () => {
  const r = parseDocuments(
    "apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n  annotations: { a: b }\n  lables: { x: y }\nspek: {}\n",
    { file: "svc.yaml" },
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.path, `${d.source?.file}:${d.source?.line}:${d.source?.column}`, d.hint]),
    [
      ["metadata.namespace", "svc.yaml:5:14", "objects have no namespace; remove it; allowed fields here: labels, name"],
      ["metadata.annotations", "svc.yaml:6:16", "remove it; allowed fields here: labels, name"],
      ["metadata.lables", "svc.yaml:7:11", "did you mean 'labels'?"],
      ["spek", "svc.yaml:8:7", "did you mean 'spec'?"],
    ],
  );
  assert.ok(r.diagnostics.every((d) => d.severity === "error" && d.code === "schema.unknown_field"));
});

test("the same checks apply to JSON input", () => {
  const r = parseDocuments('{"apiVersion":"tcp.dev/v1alpha1","kind":"Service","metadata":{"name":"web"},"spec":{},"endpoints":[]}');
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.path, d.source?.line]),
    [["schema.unknown_field", "endpoints", 1]],
  );
});

test("labels must be a mapping of scalars", () => {
  const r = parseDocuments("apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata: { name: a, labels: [x] }\n---\napiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata: { name: b, labels: { x: { y: 1 } } }\n");
  assert.deepEqual(
    r.diagnostics.map((d) => [d.object, d.code, d.path]),
    [
      ["Service/a", "schema.type", "metadata.labels"],
      ["Service/b", "schema.type", "metadata.labels.x"],
    ],
  );
});

// Issue 14: hostile input becomes a diagnostic, never an exception.
test("a duplicate key is refused with its path, in YAML and in JSON (inside lists too)", () => {
  const yaml = parseDocuments("apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: a\nspec:\n  endpoints:\n    - address: x\n      port: 1\n      port: 2\n");
  const json = parseDocuments('{"apiVersion": "tcp.dev/v1alpha1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"endpoints": [{"port": 1, "port": 2}]}}');
  for (const r of [yaml, json]) {
    assert.deepEqual(r.objects, []);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [["yaml.duplicate_key", "spec.endpoints[0].port"]]);
  }
  assert.equal(yaml.diagnostics[0]?.source?.line, 9);
});

test("too many aliases are refused, naming the limit", () => {
  const r = parseDocuments(`x: &a [1]\nkind: Service\nmetadata: {name: a}\nspec:\n  l: [${Array(5000).fill("*a").join(",")}]\n`);
  assert.deepEqual(r.diagnostics.map((d) => d.code), ["yaml.aliases"]);
  assert.match(r.diagnostics[0]?.message ?? "", /too many YAML aliases.*\(limit 100\)/);
});

test("input nested 200,000 deep is refused before parsing, in YAML and JSON", () => {
  for (const deep of [`${"[".repeat(200_000)}${"]".repeat(200_000)}`, `${'{"a":'.repeat(200_000)}1${"}".repeat(200_000)}`, `${"- ".repeat(200_000)}x\n`]) {
    const r = parseDocuments(deep);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message]), [["input.too_deep", "nested too deep (limit 100 levels of mappings and lists)"]]);
  }
});
