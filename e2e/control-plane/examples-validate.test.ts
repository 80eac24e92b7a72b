// Every example under examples/control-plane/ compiles cleanly with the real
// compile(), and the real Envoy accepts what it generates: each node group's
// resources go into a static bootstrap (RDS inlined, EDS made STATIC, see
// support/static-bootstrap.ts) that `envoy --mode validate` must accept. Our
// own protoc-gen-validate check runs inside compile(); this catches what only
// Envoy knows (extension configs, certificates, cross-references, semantic
// checks), so a translation bug Envoy would reject fails CI.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { compile, readConfigFile, type NodeGroupConfig } from "@ts-control-plane/control-plane";
import { toEnvoyJson } from "../harness/envoy-json.ts";
import { examplesDir } from "./support/example-copy.ts";
import { envoyValidateMode, type ValidateVerdict } from "./support/envoy-validate-mode.ts";
import { staticBootstrap, type JsonResource } from "./support/static-bootstrap.ts";

const examples = readdirSync(examplesDir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

function groupResources(group: NodeGroupConfig): JsonResource[] {
  return group.resources.map((m) => ({ typeName: m.$typeName, json: toEnvoyJson(m) }));
}

// Envoy runs are the slow part (about half a second each): run them two at a
// time (the machines have two cores) from the start, and let each test await its own.
const limit = 2;
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

interface ExampleResult {
  readonly groups: readonly { readonly name: string; readonly resources: number; readonly verdict: ValidateVerdict }[];
}

async function checkExample(file: string): Promise<ExampleResult> {
  const parsed = readConfigFile(join(examplesDir, file));
  assert.deepEqual(parsed.diagnostics, [], `${file} parses without diagnostics`);
  assert.ok(parsed.objects.length > 0, `${file} has objects`);
  const result = compile(parsed.objects);
  assert.deepEqual(result.diagnostics, [], `${file} compiles without diagnostics`);
  assert.deepEqual(result.rejected, [], `${file}: no object refused`);
  const groups = result.groups.filter((g) => g.resources.length > 0);
  assert.ok(groups.length > 0, `${file} generates resources`);
  return {
    groups: await Promise.all(
      groups.map(async (g) => ({
        name: g.name,
        resources: g.resources.length,
        verdict: await limited(() => envoyValidateMode(staticBootstrap(groupResources(g)))),
      })),
    ),
  };
}

const results = new Map(examples.map((file) => [file, checkExample(file)] as const));
// A failure is reported by the test of its example; keep it from being an unhandled rejection meanwhile.
for (const p of results.values()) p.catch(() => undefined);

test("examples/control-plane/ holds the examples the README lists", () => {
  for (const name of ["scenario-2.yaml", "scenario-3.yaml", "scenario-4.yaml", "scenario-5.yaml", "canary.yaml", "node-groups.yaml", "services.yaml", "tls-from-files.yaml", "tls-both-ways.yaml", "mixing-raw.yaml", "opentelemetry.yaml"]) {
    assert.ok(examples.includes(name), `${name} is checked`);
  }
});

for (const file of examples) {
  test(`Envoy --mode validate accepts what examples/control-plane/${file} compiles to`, { timeout: 60_000 }, async (t) => {
    const result = await results.get(file)!;
    for (const g of result.groups) {
      t.diagnostic(`node group ${g.name}: ${g.resources} resources, envoy exit ${g.verdict.code}`);
      assert.equal(g.verdict.code, 0, `Envoy rejects node group ${g.name} of ${file}:\n${g.verdict.output.trim().split("\n").slice(-8).join("\n")}`);
    }
  });
}

// The check can fail: with its cluster (and endpoints) left out, scenario-2's
// route names a cluster that does not exist, and Envoy refuses the listener.
test("negative control: Envoy --mode validate rejects a route to a cluster the node group lacks", { timeout: 30_000 }, async () => {
  const parsed = readConfigFile(join(examplesDir, "scenario-2.yaml"));
  const [group] = compile(parsed.objects).groups;
  assert.ok(group !== undefined);
  const withoutCluster = groupResources(group).filter(
    (r) => r.typeName !== "envoy.config.cluster.v3.Cluster" && r.typeName !== "envoy.config.endpoint.v3.ClusterLoadAssignment",
  );
  const verdict = await limited(() => envoyValidateMode(staticBootstrap(withoutCluster)));
  assert.notEqual(verdict.code, 0, verdict.output);
  assert.match(verdict.output, /unknown cluster 'example_proxy_cluster'/);
});
