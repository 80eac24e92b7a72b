import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { resourceType, typeUrlOf } from "@ts-control-plane/xds";
import { compile, createCompiler, matchNodeGroup, type CompileResult } from "./compile.ts";
import { resourceToJson } from "./envoy/resource-json.ts";
import { parseDocuments } from "./model/parse-documents.ts";
import type { ModelObject } from "./model/model-object.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const examples = join(root, "examples", "control-plane");
const golden = join(import.meta.dirname, "..", "testdata", "golden");

/**
 * Loads an example; file references (certificateFile, keyFile, caCertificatesFile, at any depth)
 * are read into inline PEM as the runtime does before compile(). The runtime's reader lives in
 * sources/, a layer compile() and its tests may not import.
 */
function load(file: string): ModelObject[] {
  const path = join(examples, file);
  const parsed = parseDocuments(readFileSync(path, "utf8"), { file: path });
  assert.deepEqual(parsed.diagnostics, [], `${file} parses cleanly`);
  const inline = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(inline);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return;
    const rec = value as Record<string, unknown>;
    Object.values(rec).forEach(inline);
    for (const [fileField, pem] of [["certificateFile", "certificate"], ["keyFile", "key"], ["caCertificatesFile", "caCertificates"]] as const) {
      const f = rec[fileField];
      if (typeof f === "string") {
        rec[pem] = readFileSync(join(dirname(path), f), "utf8");
        delete rec[fileField];
      }
    }
  };
  for (const o of parsed.objects) inline(o.spec);
  return parsed.objects;
}

/** A compile result as stable, readable JSON: what golden files hold. */
function render(r: CompileResult): string {
  const out = {
    rejected: r.rejected,
    diagnostics: r.diagnostics,
    groups: r.groups.map((g) => ({
      name: g.name,
      selector: g.selector,
      objects: g.objects,
      resources: g.resources.map((m) => ({ "@type": m.$typeName, resource: resourceToJson(m) })),
    })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

const goldenCases = ["scenario-2", "scenario-3", "scenario-4", "scenario-5", "canary", "node-groups", "services", "tls-from-files", "tls-both-ways", "route-actions", "mixing-raw", "http-filters", "opentelemetry"];

for (const name of goldenCases) {
  test(`golden: examples/control-plane/${name}.yaml`, () => {
    const actual = render(compile(load(`${name}.yaml`)));
    const file = join(golden, `${name}.json`);
    if (process.env["UPDATE_GOLDEN"] === "1") {
      mkdirSync(golden, { recursive: true });
      writeFileSync(file, actual);
    }
    assert.equal(actual, readFileSync(file, "utf8"), `run with UPDATE_GOLDEN=1 to accept the new output of ${name}.yaml`);
  });
}

test("every example compiles without diagnostics or rejections", () => {
  for (const name of goldenCases) {
    const r = compile(load(`${name}.yaml`));
    assert.deepEqual(r.rejected, [], name);
    assert.deepEqual(r.diagnostics, [], name);
  }
});

test("scenario 2 has the names and ports end-to-end tests rely on", () => {
  const r = compile(load("scenario-2.yaml"));
  const json = JSON.stringify(r.groups[0]?.resources.map(resourceToJson));
  assert.equal(r.groups.length, 1);
  assert.equal(r.groups[0]?.name, "default");
  assert.deepEqual(r.groups[0]?.selector, {});
  for (const needle of ['"name":"listener_0"', '"port_value":10000', '"cluster":"example_proxy_cluster"', '"address":"127.0.0.1","port_value":8081']) {
    assert.ok(json.includes(needle), needle);
  }
});

/** A deterministic shuffle (no randomness in tests either). */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
  return v;
}

test("determinism: shuffled objects and reordered keys give identical output", () => {
  const objects = [...load("node-groups.yaml"), ...load("services.yaml").filter((o) => o.kind !== "Listener")];
  const expected = render(compile(objects));
  for (const seed of [1, 2, 3, 42]) {
    const shuffled = shuffle(objects, seed).map((o) => reverseKeys(o) as ModelObject);
    assert.equal(render(compile(shuffled)), expected, `seed ${seed}`);
  }
});

test("stable names: reordering routes or backends never renames or changes a cluster", () => {
  const objects = load("canary.yaml");
  const before = compile(objects);
  const route = objects.find((o) => o.kind === "Route");
  assert.ok(route);
  const rules = route.spec["routes"] as Record<string, unknown>[];
  const second = rules[1] as { backends: unknown[] };
  second.backends.reverse();
  rules.reverse();
  const after = compile(objects);
  const clusters = (r: CompileResult) =>
    (r.groups[0]?.resources ?? []).filter((m) => m.$typeName === "envoy.config.cluster.v3.Cluster").map((m) => JSON.stringify(resourceToJson(m)));
  assert.deepEqual(clusters(after), clusters(before));
  const routeJson = JSON.stringify((after.groups[0]?.resources ?? []).map(resourceToJson));
  assert.ok(routeJson.indexOf('"x-canary"') > routeJson.indexOf("weighted_clusters"), "route order follows the file: first match wins");
});

test("an invalid object is refused on its own; what references it gets its own diagnostic; the rest compiles", () => {
  const objects = load("canary.yaml");
  const stable = objects.find((o) => o.metadata.name === "web_stable");
  assert.ok(stable);
  stable.spec["endpoints"] = [{ address: "127.0.0.1", port: 70000 }];
  const extra: ModelObject = {
    apiVersion: "tcp.dev/v1alpha1",
    kind: "Listener",
    metadata: { name: "other" },
    spec: { protocol: "TCP", port: 11000, service: "web_canary" },
  };
  const r = compile([...objects, extra]);
  assert.deepEqual(r.rejected, ["Route/web", "Service/web_stable"]);
  const codes = r.diagnostics.map((d) => `${d.object} ${d.code} ${d.path}`);
  assert.deepEqual(codes, [
    "Route/web ref.rejected spec.routes[1].backends[0].service",
    "Service/web_stable schema.range spec.endpoints[0].port",
  ]);
  assert.equal(r.diagnostics[0]?.hint, "fix the errors reported on Service/web_stable first");
  const names = (r.groups[0]?.resources ?? []).map((m) => (m as unknown as { name?: string; clusterName?: string }).name || (m as unknown as { clusterName: string }).clusterName);
  // listener_0 stays, with an empty route table, until the route is fixed.
  assert.deepEqual(names, ["web_canary", "web_canary", "listener_0", "other", "listener_0"]);
});

test("Envoy's PGV rules are checked: a resource Envoy would NACK refuses the object behind it", () => {
  const raw: ModelObject = {
    apiVersion: "tcp.dev/v1alpha1",
    kind: "RawResource",
    metadata: { name: "bad-cluster" },
    spec: { resource: { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", name: "bad", connect_timeout: "0s" } },
  };
  const r = compile([...load("scenario-2.yaml"), raw]);
  assert.deepEqual(r.rejected, ["RawResource/bad-cluster"]);
  assert.equal(r.diagnostics.length, 1);
  const d = r.diagnostics[0];
  assert.equal(d?.code, "envoy.invalid");
  assert.equal(d?.path, "spec.resource.connect_timeout");
  assert.match(d?.message ?? "", /Envoy would reject Cluster 'bad': connect_timeout/);
  assert.match(d?.hint ?? "", /^fix spec\.resource\.connect_timeout \(rule duration\.gt\)$/);
  assert.equal(r.groups[0]?.resources.length, 4, "the rest of the configuration is untouched");
});

test("node groups: selectors match by node id, cluster and metadata, first group by name wins", () => {
  const r = compile(load("node-groups.yaml"));
  assert.deepEqual(
    r.groups.map((g) => g.name),
    ["edge", "internal", "internal-by-id"],
  );
  assert.equal(matchNodeGroup(r.groups, { id: "e1", cluster: "edge" }), "edge");
  assert.equal(matchNodeGroup(r.groups, { id: "x", cluster: "other", metadata: { role: "internal" } }), "internal");
  assert.equal(matchNodeGroup(r.groups, { id: "internal-1", cluster: "other" }), "internal-by-id");
  assert.equal(matchNodeGroup(r.groups, { id: "nobody", cluster: "other" }), undefined);
  assert.equal(matchNodeGroup(compile(load("scenario-2.yaml")).groups, { id: "any", cluster: "" }), "default");
});

test("fast path: an endpoint-only change rebuilds only that service's endpoints, with the same result as a full compile", () => {
  const compiler = createCompiler();
  const objects = load("scenario-4.yaml");
  compiler.compile(objects);
  assert.equal(compiler.lastPath, "full");
  const before = compiler.compile(objects);
  assert.equal(compiler.lastPath, "unchanged");
  const moved = objects.map((o) =>
    o.metadata.name === "service1" ? { ...o, spec: { ...o.spec, endpoints: [{ address: "127.0.0.1", port: 8082 }] } } : o,
  );
  const fast = compiler.compile(moved);
  assert.equal(compiler.lastPath, "endpoints");
  assert.equal(render(fast), render(compile(moved)));
  assert.notEqual(render(fast), render(before));
  // Resources that did not change are the very same messages (their encoding can be reused).
  const unchanged = (before.groups[0]?.resources ?? []).filter((m) => fast.groups[0]?.resources.includes(m));
  assert.equal(unchanged.length, (before.groups[0]?.resources.length ?? 0) - 1);
  // An endpoint that breaks a rule falls back to the full path and is refused there.
  const broken = moved.map((o) => (o.metadata.name === "service1" ? { ...o, spec: { ...o.spec, endpoints: [{ address: "db.internal", port: 1 }] } } : o));
  const refused = compiler.compile(broken);
  assert.equal(compiler.lastPath, "full");
  assert.deepEqual(refused.rejected, ["Route/traced_route", "Service/service1"]);
  // Any other change takes the full path.
  const renamed = moved.map((o) => (o.metadata.name === "service1" ? { ...o, spec: { ...o.spec, connectTimeout: "2s" } } : o));
  compiler.compile(renamed);
  assert.equal(compiler.lastPath, "full");
});

test("no NodeGroup: one 'default' group with an empty selector carries every object", () => {
  const r = compile(load("services.yaml"));
  assert.equal(r.groups.length, 1);
  assert.deepEqual(r.groups[0]?.objects, ["AccessLog/json", "Listener/main", "Route/api", "Service/api", "Service/external", "Service/search"]);
});

test("every EDS and RDS name a group references is produced in the same group, once", () => {
  for (const name of goldenCases) {
    for (const g of compile(load(`${name}.yaml`)).groups) {
      const have = new Set<string>();
      for (const m of g.resources) {
        const type = resourceType(typeUrlOf(m.$typeName));
        assert.ok(type, m.$typeName);
        const key = `${type.typeUrl} ${type.nameOf(m)}`;
        assert.ok(!have.has(key), `${name}/${g.name}: duplicate ${key}`);
        have.add(key);
      }
      for (const m of g.resources) {
        for (const ref of resourceType(typeUrlOf(m.$typeName))?.references(m) ?? []) {
          for (const n of ref.names) assert.ok(have.has(`${ref.typeUrl} ${n}`), `${name}/${g.name}: ${ref.typeUrl} ${n} is referenced but not produced`);
        }
      }
    }
  }
});

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; additionalProperties?: boolean | Schema; items?: Schema; enum?: unknown[]; const?: unknown };

test("the JSON Schema knows every field and value the examples use", () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, "..", "schema", "v1alpha1.schema.json"), "utf8")) as Schema & { $defs: Record<string, Schema> };
  const check = (value: unknown, s: Schema, path: string): void => {
    if (s.$ref !== undefined) {
      check(value, schema.$defs[s.$ref.replace("#/$defs/", "")] ?? {}, path);
      return;
    }
    if (s.enum !== undefined) assert.ok(s.enum.includes(value), `${path}: ${String(value)} not in the schema's enum`);
    if (s.const !== undefined) assert.equal(value, s.const, path);
    if (Array.isArray(value) && s.items !== undefined) {
      for (const [i, v] of value.entries()) check(v, s.items, `${path}[${i}]`);
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value) && s.properties !== undefined) {
      for (const [k, v] of Object.entries(value)) {
        const p = s.properties[k];
        if (p === undefined) assert.notEqual(s.additionalProperties, false, `${path}.${k} is not in the schema`);
        else check(v, p, `${path}.${k}`);
      }
    }
  };
  for (const name of goldenCases) {
    for (const o of parseDocuments(readFileSync(join(examples, `${name}.yaml`), "utf8")).objects) {
      check(o, schema, `${name}.yaml ${o.kind}/${o.metadata.name}`);
      check(o.spec, schema.$defs[o.kind] ?? {}, `${name}.yaml ${o.kind}/${o.metadata.name} spec`);
    }
  }
});

test("never throws on user input: every field of every example replaced by values of every wrong type", () => {
  const wrong: unknown[] = [null, 0, -1, 1.5, "", "x", true, [], [1], {}, { a: 1 }];
  const paths = (v: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
    if (Array.isArray(v)) return v.flatMap((x, i) => [[...prefix, i], ...paths(x, [...prefix, i])]);
    if (v !== null && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
    return [];
  };
  const set = (root: unknown, path: (string | number)[], value: unknown): void => {
    let node = root as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
    node[path[path.length - 1] as string | number] = value;
  };
  let runs = 0;
  for (const name of ["canary", "node-groups", "services", "scenario-4", "scenario-5"]) {
    const objects = load(`${name}.yaml`);
    objects.forEach((o, i) => {
      for (const path of paths(o.spec)) {
        for (const value of wrong) {
          const copy = structuredClone(objects);
          set((copy[i] as ModelObject).spec, path, value);
          const r = compile(copy);
          assert.ok(Array.isArray(r.groups));
          runs++;
        }
      }
    });
  }
  assert.ok(runs > 1000, `${runs} mutated configurations compiled`);
});

test("a Listener's tls.certificates[i].secret is a reference: missing, or holding a CA bundle, refuses the listener at its path", () => {
  const object = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec }) as ModelObject;
  const ca = readFileSync(join(examples, "certs", "example-ca.crt"), "utf8");
  const r = compile([
    object("Secret", "bundle", { validationContext: { caCertificates: ca } }),
    object("Listener", "l", { protocol: "HTTPS", port: 8443, tls: { certificates: [{ secret: "nope", serverNames: ["a.example.com"] }, { secret: "bundle" }] } }),
  ]);
  assert.deepEqual(
    r.diagnostics.map((d) => ({ code: d.code, path: d.path })),
    [
      { code: "ref.not_found", path: "spec.tls.certificates[0].secret" },
      { code: "ref.wrong_secret_type", path: "spec.tls.certificates[1].secret" },
    ],
  );
  assert.ok(r.rejected.includes("Listener/l"));
});
