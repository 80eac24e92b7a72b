import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { serve, type RunningControlPlane } from "../main.ts";
import { runCli } from "./run-cli.ts";

const service = (port: number) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: s1\nspec:\n  endpoints:\n    - address: 127.0.0.1\n      port: ${port}\n`;

async function cli(args: string[], env: Record<string, string> = {}, stdin = "") {
  let out = "";
  let err = "";
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env, stdin: async () => stdin });
  return { code, out, err };
}

describe("tcp CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-cli-"));
  let cp: RunningControlPlane;
  let env: Record<string, string>;
  before(async () => {
    cp = await serve({ xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: join(dir, "data"), configPaths: [], debounceMs: 5, log: () => {} });
    env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
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
    assert.match((await cli(["get", "-o", "xml"], env)).err, /-o takes yaml, json or table/);
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
    assert.match(r.out, /applied: revision 1\n {2}created Service\/s1/);
    assert.match((await cli(["apply", "-f", "-"], env, service(8081))).out, /unchanged/);
    const refused = await cli(["apply", "-f", "-"], env, service(70000));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /<stdin>:8:13: error: Service\/s1 spec\.endpoints\[0\]\.port/);
    assert.match((await cli(["get", "Service", "s1", "-o", "yaml"], env)).out, /port: 8081/);
    assert.match((await cli(["get"], env)).out, /Service\/s1 +1 +cli/);
    const diff = await cli(["diff", "-f", "-"], env, service(8082));
    assert.equal(diff.code, 0, diff.err);
    assert.match(diff.out, /no Envoy resource would change|node group default:/);
    assert.match((await cli(["history"], env)).out, /1 +\S+ +cli +created Service\/s1/);
    assert.match((await cli(["history", "1"], env)).out, /^# revision 1 at .* by cli: created Service\/s1\napiVersion: tcp\.dev\/v1alpha1\n/);
    assert.equal((await cli(["delete", "Service", "s1", "--expected-revision", "7"], env)).code, 1);
    assert.match((await cli(["delete", "Service", "s1"], env)).out, /deleted Service\/s1: revision 2/);
    assert.match((await cli(["rollback", "--to", "1"], env)).out, /rolled back to revision 1: new revision 3/);
    assert.match((await cli(["bootstrap", "--node", "n1"], env)).out, new RegExp(`port_value: ${cp.xdsPort}`));
    assert.match((await cli(["status"], env)).out, /revision 3/);
  });

  it("says when the control plane cannot be reached, with exit code 3", async () => {
    const r = await cli(["get"], { CONTROL_PLANE_SERVER: "http://127.0.0.1:1" });
    assert.equal(r.code, 3);
    assert.match(r.err, /cannot reach the control plane at http:\/\/127\.0\.0\.1:1/);
  });
});
