import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { serve } from "../main.ts";
import { StartupError } from "../startup/startup-error.ts";
import { parseCliArgs } from "./cli-args.ts";
import { cli, serveOptions as options, serviceYaml } from "./cli-test-kit.ts";
import { resolveToken } from "./resolve-token.ts";

// Issue 13: the admin API never listens beyond this machine without authentication, and
// token mode works with no setup for the CLI on the same machine.


function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "cp-auth-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("serve: admin API exposure", () => {
  it("refuses a non-loopback admin address without authentication, naming the flag, and holds nothing", async (t) => {
    const dir = tempDir(t);
    for (const adminHost of ["0.0.0.0", "::", "192.0.2.10"]) {
      await assert.rejects(
        serve(options(dir, { adminHost })),
        (e: unknown) => e instanceof StartupError && e.code === "admin_unprotected" && e.message.includes(`listen on ${adminHost}`) && e.message.includes("--admin-auth token"),
      );
    }
    await (await serve(options(dir, { adminHost: "localhost" }))).close();
  });

  it("starts on 0.0.0.0 with --admin-auth token", async (t) => {
    const dir = tempDir(t);
    const cp = await serve(options(dir, { adminHost: "0.0.0.0", adminAuth: "token" }));
    t.after(() => cp.close());
    assert.equal((await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/objects`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${cp.adminPort}/healthz`)).status, 200);
  });

  it("exits 1 from the command line, without a stack trace, saying which flag to set", async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("../main.ts", import.meta.url)), "--admin-host", "0.0.0.0", "--admin-port", "0", "--xds-port", "0", "--no-example"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    assert.equal(code, 1);
    assert.match(err, /^error: cannot start the control plane: the admin API would listen on 0\.0\.0\.0, beyond this machine, with no authentication: start with --admin-auth token \(env CONTROL_PLANE_ADMIN_AUTH\)/);
    assert.doesNotMatch(err, /^\s+at /m);
  });
});

describe("serve --admin-auth token with the CLI", () => {
  it("writes a first admin token the local CLI uses; tokens get roles; only hashes are stored", async (t) => {
    const dir = tempDir(t);
    const dataDir = join(dir, "data");
    let cp = await serve(options(dataDir, { adminAuth: "token" }));
    t.after(() => cp.close());
    const file = join(dataDir, "admin-token");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const adminToken = readFileSync(file, "utf8").trim();
    const server = `http://127.0.0.1:${cp.adminPort}`;
    const local = { CONTROL_PLANE_SERVER: server, CONTROL_PLANE_DATA_DIR: dataDir };

    // Without a token (no data dir of a local control plane): 401, and the message says how.
    const anonymous = await cli(["get", "--data-dir", join(dir, "elsewhere")], { CONTROL_PLANE_SERVER: server });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.err, /needs a token with role read: send Authorization: Bearer TOKEN/);

    const created = await cli(["token", "create", "--role", "write", "--name", "ci"], local);
    assert.equal(created.code, 0, created.err);
    const ci = created.out.trim();
    assert.match(ci, /^tcp_/);
    assert.match(created.err, /created token ci with role write; store it now/);
    const reader = (await cli(["token", "create", "--role", "read", "--name", "dash"], local)).out.trim();

    const list = await cli(["token", "list"], local);
    assert.match(list.out, /^NAME +ROLE +CREATED\nadmin +admin +\S+\nci +write +\S+\ndash +read +\S+\n$/);
    for (const value of [adminToken, ci, reader]) {
      assert.ok(!list.out.includes(value));
      assert.ok(!readFileSync(join(dataDir, "admin-tokens.json"), "utf8").includes(value), "only hashes on disk");
    }

    const ciEnv = { CONTROL_PLANE_SERVER: server, TCP_TOKEN: ci };
    const applied = await cli(["apply", "-f", "-"], ciEnv, serviceYaml("a", 8081));
    assert.equal(applied.code, 0, applied.err);
    const history = await cli(["history", "-o", "json"], { CONTROL_PLANE_SERVER: server, TCP_TOKEN: reader });
    assert.equal((JSON.parse(history.out) as { source: string }[])[0]?.source, "token:ci (cli)");

    const denied = await cli(["apply", "-f", "-", "--token", reader], { CONTROL_PLANE_SERVER: server }, serviceYaml("b", 8082));
    assert.equal(denied.code, 1);
    assert.match(denied.err, /token "dash" has role read; POST \/api\/v1\/apply needs role write/);
    assert.match((await cli(["token", "list"], ciEnv)).err, /needs role admin/);

    assert.equal((await cli(["token", "revoke", "ci"], local)).code, 0);
    assert.match((await cli(["get"], ciEnv)).err, /the token is not known/);

    // The local admin token goes only to a control plane on loopback.
    assert.equal(resolveToken(parseCliArgs(["get"]), { CONTROL_PLANE_DATA_DIR: dataDir }, "http://cp.example:9000"), undefined);
    assert.equal(resolveToken(parseCliArgs(["get"]), { CONTROL_PLANE_DATA_DIR: dataDir }, "http://[::1]:9000"), adminToken);

    // A restart keeps the tokens and does not write a new admin token.
    await cp.close();
    cp = await serve(options(dataDir, { adminAuth: "token" }));
    assert.equal(readFileSync(file, "utf8").trim(), adminToken);
    assert.equal((await cli(["get"], { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}`, TCP_TOKEN: reader })).code, 0);
  });
});
