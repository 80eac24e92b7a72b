// The layer rule on small temporary trees laid out like the repository: a clean
// tree passes, and each kind of violation is reported, naming the file.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test, type TestContext } from "node:test";
import { checkLayerRule, importsOf } from "./layer-rule.ts";

/** A tree that follows the rule; `extra` files are added (or replace) on top. */
function tree(t: TestContext, extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "layer-rule-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    "packages/xds/src/resource/type-urls.ts": "export const x = 1;\n",
    "packages/xds/src/cache/snapshot.ts": 'import { x } from "../resource/type-urls.ts";\nexport const y = x;\n',
    "packages/xds/src/cache/snapshot.test.ts": 'import { edsCluster } from "../../testing/fixtures.ts";\n',
    "packages/xds/src/server/xds-server.ts": 'export * from "../cache/snapshot.ts";\n',
    "packages/xds/src/index.ts": 'export { y } from "./cache/snapshot.ts";\nexport * from "./server/xds-server.ts";\n',
    "packages/xds/testing/fixtures.ts": 'import { y } from "../src/index.ts";\nexport const edsCluster = y;\n',
    "packages/xds/testing/index.ts": 'export * from "./fixtures.ts";\n',
    "packages/control-plane/src/model/model-object.ts": 'import { TypeUrl } from "@ts-control-plane/xds";\n',
    "packages/control-plane/src/compile.ts": 'import "./model/model-object.ts";\n',
    "packages/control-plane/src/compile.test.ts": 'import { compile } from "./compile.ts";\nimport { endpoints } from "@ts-control-plane/xds/testing";\n',
    "packages/control-plane/src/cli/run-cli.ts": 'const m = await import("../main.ts");\n',
    "packages/control-plane/src/main.ts": 'import { compile } from "./compile.ts";\n',
    "packages/control-plane/src/index.ts": 'export * from "./main.ts";\n',
    "e2e/harness/start.ts": 'import { RawXdsClient } from "@ts-control-plane/xds/testing";\nimport { createXdsServer } from "@ts-control-plane/xds";\n',
    ...extra,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** The one problem the tree has, which must name `file`. */
function onlyProblem(root: string, file: string): string {
  const { problems } = checkLayerRule(root);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.join("\n")}`);
  const problem = problems[0]!;
  assert.ok(problem.startsWith(`${file}: `), problem);
  return problem;
}

test("a tree that follows the rule passes, and every file is counted", (t) => {
  const report = checkLayerRule(tree(t));
  assert.deepEqual(report.problems, []);
  assert.equal(report.checked, 14);
});

test("a file in no layer fails: an unknown folder, and an unknown root file", (t) => {
  assert.match(onlyProblem(tree(t, { "packages/xds/src/helpers/util.ts": "export {};\n" }), "packages/xds/src/helpers/util.ts"), /belongs to no layer/);
  assert.match(onlyProblem(tree(t, { "packages/control-plane/src/boot.ts": "export {};\n" }), "packages/control-plane/src/boot.ts"), /belongs to no layer/);
  assert.match(onlyProblem(tree(t, { "packages/control-plane/src/boot.test.ts": "export {};\n" }), "packages/control-plane/src/boot.test.ts"), /belongs to no layer/);
});

test("a package's sources that the rule does not describe fail", (t) => {
  const root = tree(t, { "packages/extra/src/a.ts": "export {};\n" });
  assert.deepEqual(checkLayerRule(root).problems, ["packages/extra/src: a package's sources with no layers (add it to scripts/layer-rule.ts)"]);
});

test("a lower layer importing a higher one fails, static, re-export or dynamic", (t) => {
  const file = "packages/xds/src/resource/type-urls.ts";
  assert.match(onlyProblem(tree(t, { [file]: 'import { y } from "../cache/snapshot.ts";\n' }), file), /layer 'resource' must not import higher layer 'cache'/);
  assert.match(onlyProblem(tree(t, { [file]: 'export * from "../server/xds-server.ts";\n' }), file), /higher layer 'server'/);
  const cp = "packages/control-plane/src/model/model-object.ts";
  assert.match(onlyProblem(tree(t, { [cp]: 'const c = await import("../compile.ts");\n' }), cp), /layer 'model' must not import higher layer 'compile.ts'/);
});

test("the library importing the control plane fails", (t) => {
  const file = "packages/xds/src/cache/snapshot.ts";
  assert.match(onlyProblem(tree(t, { [file]: 'import { compile } from "@ts-control-plane/control-plane";\n' }), file), /must not import the control plane/);
});

test("the library's sources importing its testing code fail; its tests may", (t) => {
  const file = "packages/xds/src/server/xds-server.ts";
  assert.match(onlyProblem(tree(t, { [file]: 'import { edsCluster } from "../../testing/fixtures.ts";\n' }), file), /must not import its testing code/);
});

test("the control plane reaching into the library fails: an internal path, a relative path, the test helpers outside tests", (t) => {
  const file = "packages/control-plane/src/model/model-object.ts";
  assert.match(onlyProblem(tree(t, { [file]: 'import { TypeUrl } from "@ts-control-plane/xds/resource/type-urls";\n' }), file), /imports a library internal/);
  assert.match(onlyProblem(tree(t, { [file]: 'import { TypeUrl } from "../../../xds/src/resource/type-urls.ts";\n' }), file), /imports the library by relative path/);
  assert.match(onlyProblem(tree(t, { [file]: 'import { edsCluster } from "@ts-control-plane/xds/testing";\n' }), file), /only tests may import @ts-control-plane\/xds\/testing/);
});

test("e2e, bench and examples use only the library's entries", (t) => {
  const file = "e2e/harness/start.ts";
  assert.match(onlyProblem(tree(t, { [file]: 'import { x } from "../../packages/xds/src/resource/type-urls.ts";\n' }), file), /by relative path/);
  assert.match(onlyProblem(tree(t, { [file]: 'import { concat } from "@ts-control-plane/xds/resource/wire";\n' }), file), /library internal/);
});

test("a relative import out of its package fails", (t) => {
  const file = "packages/control-plane/src/model/model-object.ts";
  assert.match(onlyProblem(tree(t, { [file]: 'import "../../../envoy-api/gen/x.js";\n' }), file), /leaves its package/);
});

test("import forms: multi-line, type-only, side-effect, dynamic, re-export", () => {
  const text = [
    'import {\n  a,\n  b,\n} from "./a.ts";',
    'import type { T } from "./t.ts";',
    'import "./side.ts";',
    'const m = await import("./dyn.ts");',
    'export * as ns from "./ns.ts";',
    'export { c } from "./c.ts";',
  ].join("\n");
  assert.deepEqual(importsOf(text), ["./a.ts", "./t.ts", "./side.ts", "./dyn.ts", "./ns.ts", "./c.ts"]);
});
