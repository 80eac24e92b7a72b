import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningControlPlane } from "../main.ts";
import { cli, serveForTests, serviceYaml } from "./cli-test-kit.ts";

const service = serviceYaml;
const route = (name: string, to: string) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Route\nmetadata:\n  name: ${name}\nspec:\n  listeners: [l]\n  domains: ["*"]\n  routes:\n    - match: { prefix: / }\n      backends:\n        - service: ${to}\n`;

describe("tcp CLI, kubectl habits", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-habits-"));
  let cp: RunningControlPlane;
  let env: Record<string, string>;
  before(async () => {
    ({ cp, env } = await serveForTests(dir));
    const r = await cli(["apply", "-f", "-"], env, `${service("a", 8081)}---\n${service("b", 8082)}`);
    assert.equal(r.code, 0, r.err);
  });
  after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("takes kinds case-insensitive, singular, plural or short, and KIND/NAME", async () => {
    for (const kind of ["Service", "service", "services", "SERVICES", "svc"]) {
      const r = await cli(["get", kind], env);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Service\/a +1 +cli +-\nService\/b +1 +cli +-\n/, kind);
    }
    assert.match((await cli(["get", "Service/a", "-o", "yaml"], env)).out, /name: a\n.*port: 8081/s);
    assert.match((await cli(["get", "svc", "b", "-o", "yaml"], env)).out, /port: 8082/);
    assert.deepEqual(JSON.parse((await cli(["get", "svc/a", "-o", "json"], env)).out).metadata, { name: "a" });
    assert.equal(JSON.parse((await cli(["get", "svc/a", "Service/b", "-o", "json"], env)).out).length, 2);
  });

  it("refuses an unknown kind with a did-you-mean instead of an empty table", async () => {
    const r = await cli(["get", "servics"], env);
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(r.err, /unknown kind "servics"; did you mean 'service' \(Service\)\?/);
    assert.match(r.err, /run 'tcp get --help'/);
    assert.match((await cli(["get", "Widget/x"], env)).err, /unknown kind "Widget"; kinds are: Listener, Route, Service/);
    assert.match((await cli(["delete", "servce/a"], env)).err, /did you mean 'service'/);
    assert.match((await cli(["get", "Service/"], env)).err, /"Service\/" is not KIND\/NAME/);
  });

  it("prints -o name and -o wide", async () => {
    assert.equal((await cli(["get", "-o", "name"], env)).out, "Service/a\nService/b\n");
    const wide = await cli(["get", "svc", "-o", "wide"], env);
    assert.match(wide.out, /^KIND\/NAME +REVISION +SOURCE +STATUS +NODE GROUPS +ACKNOWLEDGED\nService\/a +1 +cli +- +default +0\/0\n/);
    assert.match((await cli(["get", "-o", "xml"], env)).err, /-o takes yaml, json, table, wide, name, not "xml"/);
  });

  it("prints each command's usage with examples on --help, exit 0", async () => {
    for (const [args, pattern] of [
      [["get", "--help"], /^usage: tcp get .*\n[\s\S]*examples:\n {2}tcp get\n/],
      [["delete", "-h"], /^usage: tcp delete KIND NAME\.\.\. \| KIND\/NAME\.\.\. \| -f FILE/],
      [["help", "status"], /^usage: tcp status .*--check/],
      [["diff", "--help"], /Exit 0 when nothing would change, 1 when\nsomething would/],
    ] as const) {
      const r = await cli([...args]);
      assert.equal(r.code, 0);
      assert.match(r.out, pattern, args.join(" "));
    }
    assert.match((await cli(["--help"])).out, /^usage: tcp <command>/);
  });

  it("prints the CLI's version, and the server's with the store revision when it answers", async () => {
    const { version } = (await import("../../package.json", { with: { type: "json" } })).default;
    const r = await cli(["version"], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `client: ${version}\nserver: ${version} at ${env["CONTROL_PLANE_SERVER"]} (store revision 1)\n`);
    const offline = await cli(["version"], { CONTROL_PLANE_SERVER: "http://127.0.0.1:1" });
    assert.equal(offline.code, 0);
    assert.equal(offline.out, `client: ${version}\n`);
    assert.match(offline.err, /server: cannot reach the control plane at http:\/\/127\.0\.0\.1:1/);
    assert.deepEqual(JSON.parse((await cli(["version", "-o", "json"], env)).out), { client: { version }, server: { version, revision: 1 } });
  });

  it("prints bash and zsh completion with commands, kinds and flags", async () => {
    const bash = await cli(["completion", "bash"]);
    assert.equal(bash.code, 0);
    assert.match(bash.out, /complete -F _tcp tcp/);
    assert.match(bash.out, /compgen -W "serve apply get delete validate diff bootstrap proxy-config status history rollback rollout backup restore token version completion help"/);
    assert.match(bash.out, /svc/);
    assert.match(bash.out, /status\) flags="-o --check --watch --interval --server --help"/);
    assert.match((await cli(["completion", "zsh"])).out, /^#compdef tcp\n[\s\S]*bashcompinit[\s\S]*complete -F _tcp tcp/);
    assert.match((await cli(["completion", "fish"])).err, /completion takes bash or zsh, not "fish"/);
    // The script completes in a real bash: kinds after get, flags of status, -o values of get.
    const script = join(dir, "tcp.bash");
    writeFileSync(script, bash.out);
    const complete = (words: string[]) =>
      execFileSync("bash", ["-c", `source ${script}; COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _tcp; echo "\${COMPREPLY[*]}"`], { encoding: "utf8" }).trim();
    assert.equal(complete(["tcp", "get", "s"]), "sec secret secrets service services svc");
    assert.equal(complete(["tcp", "st"]), "status");
    assert.equal(complete(["tcp", "status", "--c"]), "--check");
    assert.equal(complete(["tcp", "get", "-o", "w"]), "wide");
  });

  it("diffs field by field and exits 1 when something would change, 0 when nothing would, 2 when refused", async () => {
    const same = await cli(["diff", "-f", "-"], env, service("a", 8081));
    assert.equal(same.code, 0, same.err);
    assert.match(same.out, /^no change: revision 1 already has these objects\n$/);
    const changed = await cli(["diff", "-f", "-"], env, `${service("a", 9091)}---\n${service("c", 8083)}`);
    assert.equal(changed.code, 1, changed.err);
    assert.match(changed.out, /^~ Service\/a\n {4}~ spec\.endpoints\[0\]\.port: 8081 → 9091\n\+ Service\/c \(new\)\nnode group default:\n/);
    const json = JSON.parse((await cli(["diff", "-f", "-", "-o", "json"], env, service("a", 9091))).out);
    assert.deepEqual(json.objects, [{ key: "Service/a", action: "updated", fields: [{ path: "spec.endpoints[0].port", before: 8081, after: 9091 }] }]);
    const refused = await cli(["diff", "-f", "-"], env, service("a", 70000));
    assert.equal(refused.code, 2);
    assert.match(refused.err, /<stdin>:8:13: error: Service\/a spec\.endpoints\[0\]\.port/);
    assert.equal((await cli(["get", "svc/a", "-o", "json"], env)).out.includes("9091"), false, "diff changes nothing");
  });

  it("deletes KIND/NAME and -f FILE|DIR|- in one revision, refused as a whole when references break", async () => {
    const files = join(dir, "conf");
    mkdirSync(files);
    writeFileSync(join(files, "d.yaml"), service("d", 8084));
    writeFileSync(join(files, "e.yaml"), `${service("e", 8085)}---\n${route("r", "e")}---\napiVersion: tcp.dev/v1alpha1\nkind: Listener\nmetadata:\n  name: l\nspec:\n  protocol: HTTP\n  port: 10000\n`);
    const applied = await cli(["apply", "-f", files], env);
    assert.equal(applied.code, 0, applied.err);
    const rev = Number(/store revision (\d+)/.exec((await cli(["version"], env)).out)?.[1]);

    // Deleting only the Service that Route/r points at is refused, and nothing is deleted.
    const refused = await cli(["delete", "Service/d", "svc/e"], env);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /change refused/);
    assert.match(refused.err, /Route\/r/);
    assert.equal((await cli(["get", "svc/d"], env)).code, 0);

    const missing = await cli(["delete", "Service/d", "Service/nope"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Service\/nope does not exist; nothing was deleted/);

    const dry = await cli(["delete", "-f", files, "--dry-run"], env);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /^valid \(dry run\): would make these changes:\n/);
    for (const key of ["Service/d", "Service/e", "Route/r", "Listener/l"]) assert.match(dry.out, new RegExp(`\n {2}deleted ${key}\n`));
    const r = await cli(["delete", "-f", files], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^deleted: revision ${rev + 1}\n`));
    assert.equal((await cli(["get", "-o", "name"], env)).out, "Service/a\nService/b\n");

    const stdin = await cli(["delete", "-f", "-"], env, service("b", 8082));
    assert.match(stdin.out, new RegExp(`^deleted Service/b: revision ${rev + 2}\n`));
    // history by object: the revisions that changed it, as KIND/NAME or KIND NAME.
    const h = await cli(["history", "svc", "b"], env);
    assert.equal(h.code, 0, h.err);
    assert.deepEqual(h.out.trim().split("\n").slice(1).map((l) => l.split(/ +/)[0]), [String(rev + 2), "1"]);
    assert.equal((await cli(["history", "Route/r", "-o", "json"], env)).out.match(/"revision"/g)?.length, 2);
    assert.match((await cli(["history", "svc"], env)).err, /history takes a revision number or objects as KIND\/NAME/);
    assert.match((await cli(["delete", "svc"], env)).err, /delete needs a name: tcp delete Service\/NAME/);
    assert.match((await cli(["delete", "-f", "-", "svc/a"], env, service("a", 1))).err, /either -f FILE or KIND\/NAME/);
  });
});
