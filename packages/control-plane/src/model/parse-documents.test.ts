import { test } from "node:test";
import assert from "node:assert/strict";
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
