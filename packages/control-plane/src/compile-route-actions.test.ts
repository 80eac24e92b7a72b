import assert from "node:assert/strict";
import { test } from "node:test";
import { compile } from "./compile.ts";
import type { ModelObject } from "./model/model-object.ts";

// Route actions across objects (issue 8): a mirror references a Service like a backend does.

const obj = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const listener = obj("Listener", "l", { protocol: "HTTP", port: 10000 });
const svc = (name: string) => obj("Service", name, { endpoints: [{ address: "127.0.0.1", port: 8081 }] });
const route = (mirror: string) => obj("Route", "r", { listeners: ["l"], routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }], mirror: [{ service: mirror }] }] });

test("a mirror names a Service that must exist, and its cluster is sent with the route", () => {
  const missing = compile([listener, svc("web"), route("nope")]);
  assert.deepEqual(missing.rejected.length > 0, true);
  assert.deepEqual(missing.diagnostics.filter((d) => d.severity === "error").map((d) => [d.object, d.path]), [["Route/r", "spec.routes[0].mirror[0].service"]]);
  const ok = compile([listener, svc("web"), svc("shadow"), route("shadow")]);
  assert.deepEqual(ok.rejected, []);
  assert.ok(ok.groups[0]?.objects.includes("Service/shadow"));
  assert.ok(ok.groups[0]?.resources.some((m) => m.$typeName === "envoy.config.cluster.v3.Cluster" && (m as { name?: string }).name === "shadow"));
});
