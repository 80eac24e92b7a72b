import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningControlPlane } from "../main.ts";
import { cli, serveForTests, serviceYaml } from "./cli-test-kit.ts";

// Issue 12: nothing the user wrote is silently ignored, and an input with no objects is an error.

const service = serviceYaml;
const deIndented = "apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: web\nspec:\nendpoints:\n  - address: 127.0.0.1\n    port: 8081\n";

describe("tcp CLI input checks", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-cli-input-"));
  const offline = { CONTROL_PLANE_SERVER: "http://127.0.0.1:1" };
  let cp: RunningControlPlane;
  let env: Record<string, string>;
  before(async () => {
    ({ cp, env } = await serveForTests(dir));
  });
  after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an endpoints block de-indented out of spec, at validate and at apply, and stores nothing", async () => {
    const file = join(dir, "deindented.yaml");
    writeFileSync(file, deIndented);
    const v = await cli(["validate", "-f", file], offline);
    assert.equal(v.code, 1);
    assert.match(v.err, /deindented\.yaml:7:3: error: Service\/web endpoints: unknown field 'endpoints' \(hint: 'endpoints' is a field of Service spec: indent it under spec:\) \[schema\.unknown_field\]/);
    assert.match(v.err, /invalid: 1 error in the input/);
    const a = await cli(["apply", "-f", file], env);
    assert.equal(a.code, 1);
    assert.match(a.err, /unknown field 'endpoints'/);
    const get = await cli(["get", "-o", "json"], env);
    assert.doesNotMatch(get.out, /Service/);
  });

  it("refuses spek:, metadata.namespace and metadata.annotations with a did-you-mean", async () => {
    const text = "apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: web\n  namespace: prod\n  annotations: { a: b }\nspek:\n  endpoints: []\n";
    const r = await cli(["validate", "-f", "-"], offline, text);
    assert.equal(r.code, 1);
    assert.match(r.err, /<stdin>:5:14: error: Service\/web metadata\.namespace: unknown field 'namespace'/);
    assert.match(r.err, /<stdin>:6:16: error: Service\/web metadata\.annotations: unknown field 'annotations'/);
    assert.match(r.err, /<stdin>:8:3: error: Service\/web spek: unknown field 'spek' \(hint: did you mean 'spec'\?\)/);
    assert.match(r.err, /invalid: 3 errors in the input/);
  });

  it("an empty file, a file of comments and a lone --- are errors at validate and apply, never 'unchanged'", async () => {
    for (const [i, text] of ["", "# nothing yet\n", "---\n", "---\n---\n"].entries()) {
      const file = join(dir, `empty-${i}.yaml`);
      writeFileSync(file, text);
      const v = await cli(["validate", "-f", file], offline);
      assert.equal(v.code, 1, JSON.stringify(text));
      assert.match(v.err, /empty-\d\.yaml: error: no objects in this file .*\[input\.empty\]/);
      const a = await cli(["apply", "-f", file], env);
      assert.equal(a.code, 1, JSON.stringify(text));
      assert.doesNotMatch(a.out, /unchanged/);
    }
    const stdin = await cli(["apply", "-f", "-"], env, "\n");
    assert.equal(stdin.code, 1);
    assert.match(stdin.err, /<stdin>: error: no objects in this file/);
  });

  it("in a directory, an empty file is a warning; a directory without objects or without config files is an error", async () => {
    const d = join(dir, "tree");
    mkdirSync(d);
    writeFileSync(join(d, "placeholder.yaml"), "# later\n");
    const onlyEmpty = await cli(["validate", "-f", d], offline);
    assert.equal(onlyEmpty.code, 1);
    assert.match(onlyEmpty.err, /placeholder\.yaml: warning: no objects in this file; it is skipped/);
    assert.match(onlyEmpty.err, /error: no objects in .*tree \(hint/);
    writeFileSync(join(d, "svc.yaml"), service("s1", 8081));
    const mixed = await cli(["validate", "-f", d], offline);
    assert.equal(mixed.code, 0, mixed.err);
    assert.match(mixed.err, /placeholder\.yaml: warning: no objects in this file; it is skipped/);
    assert.match(mixed.out, /valid: 1 objects/);
    const bare = join(dir, "bare");
    mkdirSync(bare);
    writeFileSync(join(bare, "README.md"), "not config\n");
    const none = await cli(["validate", "-f", bare], offline);
    assert.equal(none.code, 1);
    assert.match(none.err, /holds no \.yaml, \.yml or \.json files/);
  });

  it("validating a directory prints every error it counts, in every file", async () => {
    const d = join(dir, "errors");
    mkdirSync(d);
    writeFileSync(join(d, "a.yaml"), service("a", 0));
    writeFileSync(join(d, "b.yaml"), `${service("b", 0)}---\n${service("c", 70000)}`);
    const r = await cli(["validate", "-f", d], offline);
    assert.equal(r.code, 1);
    const lines = r.err.split("\n").filter((l) => / error: /.test(l));
    assert.equal(lines.length, 3, r.err);
    assert.match(r.err, /invalid: 3 of 3 objects refused, 3 errors/);
    assert.ok(lines.some((l) => l.includes("a.yaml:8:13")) && lines.filter((l) => l.includes("b.yaml")).length === 2, r.err);
  });
});
