import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import type { RunningControlPlane } from "../main.ts";
import { cli, serveForTests, serviceYaml } from "./cli-test-kit.ts";

const service = (port: number): string => serviceYaml("s1", port);

describe("tcp CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-cli-"));
  let cp: RunningControlPlane;
  let env: Record<string, string>;
  before(async () => {
    ({ cp, env } = await serveForTests(dir));
  });
  after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("explains usage errors with exit code 2", async () => {
    assert.equal((await cli([])).code, 2);
    const r = await cli(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command "frobnicate"/);
    assert.match((await cli(["rollback"], env)).err, /rollback needs --to N/);
    assert.match((await cli(["get", "-o", "xml"], env)).err, /-o takes yaml, json, table, wide, name/);
    assert.equal((await cli(["--help"])).code, 0);
  });

  it("validates offline with file:line:col diagnostics and exit code 1", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, service(0));
    const r = await cli(["validate", "-f", bad], { CONTROL_PLANE_SERVER: "http://127.0.0.1:1" });
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.yaml:8:13: error: Service\/s1 spec\.endpoints\[0\]\.port: .*\(hint: /);
    const good = join(dir, "good.yaml");
    writeFileSync(good, service(8081));
    assert.equal((await cli(["validate", "-f", good])).code, 0);
    assert.equal((await cli(["validate", "-f", "-"], {}, service(8081))).code, 0);
  });

  it("applies, gets, diffs and deletes through the admin API", async () => {
    const r = await cli(["apply", "-f", "-"], env, service(8081));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /applied: revision 1 \(change chg-1\)\n {2}created Service\/s1/);
    assert.match((await cli(["apply", "-f", "-"], env, service(8081))).out, /unchanged/);
    const refused = await cli(["apply", "-f", "-"], env, service(70000));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /<stdin>:8:13: error: Service\/s1 spec\.endpoints\[0\]\.port/);
    assert.match((await cli(["get", "Service", "s1", "-o", "yaml"], env)).out, /port: 8081/);
    assert.match((await cli(["get"], env)).out, /Service\/s1 +1 +cli/);
    const diff = await cli(["diff", "-f", "-"], env, service(8082));
    assert.equal(diff.code, 1, diff.err);
    assert.match(diff.out, /spec\.endpoints\[0\]\.port: 8081 → 8082\nnode group default:/);
    assert.match((await cli(["history"], env)).out, /1 +\S+ +cli +created Service\/s1/);
    assert.match((await cli(["history", "1"], env)).out, /^# revision 1 at .* by cli: created Service\/s1\napiVersion: tcp\.dev\/v1alpha1\n/);
    assert.equal((await cli(["delete", "Service", "s1", "--expected-revision", "7"], env)).code, 1);
    assert.match((await cli(["delete", "Service", "s1"], env)).out, /deleted Service\/s1: revision 2/);
    assert.match((await cli(["rollback", "--to", "1"], env)).out, /rolled back to revision 1: new revision 3/);
    assert.match((await cli(["bootstrap", "--node", "n1"], env)).out, new RegExp(`port_value: ${cp.xdsPort}`));
    assert.match((await cli(["status"], env)).out, /revision 3/);
  });

  it("bootstrap: --xds-address per replica and the reconnect flags reach the bootstrap; a bad one is refused, nothing printed", async () => {
    const args = ["bootstrap", "--node", "n1", "--delta", "--xds-address", "10.0.0.5:18000", "--xds-address", "cp-1.cp:18000", "--xds-retry-base", "50ms", "--xds-connect-timeout", "300ms"];
    const r = await cli(args, env);
    assert.equal(r.code, 0, r.err);
    const b = parse(r.out) as {
      dynamic_resources: { ads_config: { api_type: string; grpc_services: unknown[] } };
      static_resources: { clusters: { type: string; connect_timeout: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: unknown } } }[] }[] } }[] };
    };
    assert.equal(b.dynamic_resources.ads_config.api_type, "DELTA_GRPC");
    assert.deepEqual(b.dynamic_resources.ads_config.grpc_services, [{ envoy_grpc: { cluster_name: "xds_cluster", retry_policy: { retry_back_off: { base_interval: "0.050s" } } } }]);
    const [cluster] = b.static_resources.clusters;
    assert.equal(cluster?.type, "STRICT_DNS");
    assert.equal(cluster?.connect_timeout, "0.300s");
    assert.deepEqual(cluster?.load_assignment.endpoints[0]?.lb_endpoints.map((e) => e.endpoint.address.socket_address), [
      { address: "10.0.0.5", port_value: 18000 },
      { address: "cp-1.cp", port_value: 18000 },
    ]);
    const bad = await cli(["bootstrap", "--node", "n1", "--xds-address", "cp-1.cp"], env);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.out, "");
    assert.match(bad.err, /xdsAddress \(--xds-address\) must be HOST:PORT/);
  });

  it("proxy-config: names what is wrong with its arguments, and an unknown node", async () => {
    const none = await cli(["proxy-config"], env);
    assert.equal(none.code, 2);
    assert.match(none.err, /proxy-config needs a NODE/);
    const typo = await cli(["proxy-config", "edge-1", "listners"], env);
    assert.equal(typo.code, 2);
    assert.match(typo.err, /unknown type "listners" \(did you mean listeners\?\)/);
    const unknown = await cli(["proxy-config", "edge-9", "cluster"], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /proxy "edge-9" is not known to the xDS server .*tcp status/);
    const api = await fetch(`${env["CONTROL_PLANE_SERVER"]}/api/v1/proxies/edge-9/config?type=frobs`);
    assert.equal(api.status, 400);
    assert.match(((await api.json()) as { error: { message: string } }).error.message, /type must be one of clusters, listeners, routes, endpoints, secrets, all/);
  });

  it("get shows each object's STATUS: '-' while no proxy receives it", async () => {
    assert.equal((await cli(["apply", "-f", "-"], env, service(8083))).code, 0);
    const r = await cli(["get"], env);
    assert.match(r.out, /^KIND\/NAME +REVISION +SOURCE +STATUS\n/);
    assert.match(r.out, /Service\/s1 +\d+ +cli +-\n/);
  });

  it("says when the control plane cannot be reached, with exit code 3", async () => {
    const r = await cli(["get"], { CONTROL_PLANE_SERVER: "http://127.0.0.1:1" });
    assert.equal(r.code, 3);
    assert.match(r.err, /cannot reach the control plane at http:\/\/127\.0\.0\.1:1/);
  });
});
