// Envoy itself accepts the scenario-1 resources the example builds: they are
// put into a static bootstrap (the route inline instead of over RDS) and checked
// with `envoy --mode validate`, which runs Envoy's own config loading and PGV
// validation without binding any port. This catches a wrong field before any
// xDS is involved; the xDS path is proven in scenario-1-embedded.test.ts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import { isMessage } from "@bufbuild/protobuf";
import { demoResources, DemoNames } from "../../examples/embedded/demo-resources.ts";
import type { Json } from "../harness/config-dump.ts";
import { toEnvoyJson } from "../harness/envoy-json.ts";

test("Envoy validates the example's cluster, route and listener as static config", async (t) => {
  const resources = demoResources({ upstreamHost: "localhost", upstreamPort: 8443, listenerAddress: "127.0.0.1", listenerPort: 12000 });
  const cluster = resources.find((r) => isMessage(r, ClusterSchema));
  const route = resources.find((r) => isMessage(r, RouteConfigurationSchema));
  const listener = resources.find((r) => isMessage(r, ListenerSchema));
  assert.ok(cluster && route && listener);
  assert.equal(cluster.name, DemoNames.cluster);

  const listenerJson = toEnvoyJson(listener);
  // Swap RDS for the same route configuration inline: a static bootstrap has no xDS server.
  const hcm = (((listenerJson["filter_chains"] as Json[])[0]!["filters"] as Json[])[0]!["typed_config"] as Json);
  assert.equal((hcm["rds"] as Json)["route_config_name"], DemoNames.route);
  delete hcm["rds"];
  hcm["route_config"] = toEnvoyJson(route);

  const dir = await mkdtemp(join(tmpdir(), "e2e-validate-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "bootstrap.json");
  await writeFile(file, JSON.stringify({ node: { id: "validate", cluster: "e2e" }, static_resources: { clusters: [toEnvoyJson(cluster)], listeners: [listenerJson] } }));
  const bin = process.env["ENVOY_BIN"];
  assert.ok(bin, "ENVOY_BIN is not set: run through scripts/toolchain.sh");
  const { stdout, stderr } = await promisify(execFile)(bin, ["--mode", "validate", "-c", file, "--disable-hot-restart", "--log-level", "warn"], { timeout: 30_000 });
  assert.match(stdout + stderr, /OK/);
});
