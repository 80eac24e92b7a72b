// The library promises Node 20 (its `engines`), but the repository runs on
// Node 24, whose newer APIs (Promise.withResolvers, Set methods, iterator
// helpers, RegExp modifier groups...) would slip in unnoticed. So: compile the
// library with its own unit tests, as the published build is compiled, and run
// them on the machine's Node 20 (SYSTEM_NODE, exported by scripts/toolchain.sh).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".test.js")).map((e) => join(e.parentPath, e.name)).sort();
}

test("the library's unit tests pass on the machine's Node 20, compiled as published", { timeout: 300_000 }, async (t) => {
  const systemNode = process.env["SYSTEM_NODE"];
  assert.ok(systemNode, "SYSTEM_NODE is not set: run through scripts/toolchain.sh, which exports the machine's own node (Node 20)");
  const { stdout: version } = await run(systemNode, ["--version"]);
  assert.match(version, /^v20\./, `SYSTEM_NODE (${systemNode}) is ${version.trim()}, not Node 20`);

  // Inside the repository, so the compiled files find node_modules (gitignored .e2e-tmp/).
  await mkdir(join(root, ".e2e-tmp"), { recursive: true });
  const dir = await mkdtemp(join(root, ".e2e-tmp", "node20-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const library = join(root, "packages/xds");
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: relative(dir, join(root, "tsconfig.json")),
      // No source condition: envoy-api resolves to its generated JS, as when installed.
      compilerOptions: { noEmit: false, rootDir: relative(dir, library), outDir: "out", customConditions: [], sourceMap: false },
      include: [`${relative(dir, library)}/src/**/*.ts`, `${relative(dir, library)}/testing/**/*.ts`],
    }),
  );
  let since = Date.now();
  await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir }).catch((e: { stdout?: string }) => {
    assert.fail(`compiling the library with its tests failed:\n${e.stdout ?? e}`);
  });
  t.diagnostic(`tsc: ${((Date.now() - since) / 1000).toFixed(1)} s`);

  const files = await testFiles(join(dir, "out"));
  assert.ok(files.length > 20, `expected the library's unit tests, found ${files.length} files`);
  since = Date.now();
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing TAP.
  const { NODE_OPTIONS: _options, NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const result = await run(systemNode, ["--test", "--test-reporter=tap", "--test-concurrency=2", ...files], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      const failures = (e.stdout ?? "").split("\n").filter((l) => /^\s*not ok|error:|location:/.test(l));
      assert.fail(`the library's unit tests fail on Node ${version.trim()}:\n${failures.slice(0, 40).join("\n")}\n${e.stderr ?? ""}`);
    },
  );
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)`, "m").exec(result.stdout)?.[1] ?? Number.NaN);
  t.diagnostic(`Node ${version.trim()}: ${files.length} files, ${count("pass")} passed, ${count("skipped")} skipped, in ${((Date.now() - since) / 1000).toFixed(1)} s`);
  assert.equal(count("fail"), 0);
  assert.ok(count("pass") > 200, "the run reported its passes");
});
