import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string; bin: Record<string, string> };
const launcher = fileURLToPath(new URL("../../bin/tcp.js", import.meta.url));
const offline = { ...process.env, CONTROL_PLANE_SERVER: "http://127.0.0.1:1", NODE_OPTIONS: "" };

async function tcp(file: string, args: string[], options: { path?: string } = {}) {
  try {
    const r = await run(file, args, { cwd: root, env: { ...offline, ...(options.path !== undefined ? { PATH: options.path } : {}) } });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

test("the package installs `tcp` as a JS launcher that npm links into node_modules/.bin", () => {
  assert.equal(pkg.bin["tcp"], "./bin/tcp.js");
  const linked = `${root}node_modules/.bin/tcp`;
  assert.ok(existsSync(linked), "run `npm run setup` (npm ci links the bin)");
  assert.equal(realpathSync(linked), realpathSync(launcher));
});

test("node_modules/.bin/tcp runs the CLI without node flags or NODE_OPTIONS, passing the exit code through", async () => {
  const v = await tcp(`${root}node_modules/.bin/tcp`, ["version"]);
  assert.equal(v.code, 0, v.err);
  assert.equal(v.out, `client: ${pkg.version}\n`);
  const bad = await tcp(`${root}node_modules/.bin/tcp`, ["frobnicate"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown command "frobnicate"/);
});

test("the launcher runs under an older Node on PATH too, with the project's pinned Node", { skip: !existsSync("/usr/bin/node") && "no system node" }, async () => {
  // `#!/usr/bin/env node` finds the machine's Node (20 here) first on this PATH.
  const v = await tcp(launcher, ["get", "--help"], { path: `/usr/bin:${process.env["PATH"] ?? ""}` });
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /^usage: tcp get /);
});

test("npm exec tcp works in the repository", async () => {
  const r = await tcp("npm", ["exec", "--offline", "--", "tcp", "version"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `client: ${pkg.version}\n`);
});
