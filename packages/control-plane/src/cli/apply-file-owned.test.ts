// Issue 8, bug 5: `tcp apply` of an object that a watched file defines took it
// over silently. It is refused (pointing at the file) unless --force, which
// warns; `tcp get` shows who defines each object.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serve } from "../main.ts";
import { cli, serveOptions, serviceYaml } from "./cli-test-kit.ts";

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("apply refuses an object a watched file defines unless --force, and get shows each object's source", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-file-owned-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const watched = join(dir, "conf.yaml");
  writeFileSync(watched, serviceYaml("backend", 9000));
  const cp = await serve(serveOptions(join(dir, "data"), { configPaths: [watched] }));
  t.after(() => cp.close());
  const env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
  const mine = join(dir, "mine.yaml");
  writeFileSync(mine, `${serviceYaml("backend", 9001)}---\n${serviceYaml("other", 9002)}`);

  const refused = await cli(["apply", "-f", mine], env);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^refused: an object of this change is defined by watched files\n/);
  assert.match(refused.err, new RegExp(`mine\\.yaml:\\d+:\\d+: error: Service/backend metadata\\.name: Service/backend is defined by the watched file ${esc(watched)}.*\\[object\\.file_owned\\]`));
  assert.match(refused.err, /--force/);
  const before = await cli(["get"], env);
  assert.match(before.out, new RegExp(`Service/backend +1 +file:${esc(watched)} `));
  assert.doesNotMatch(before.out, /Service\/other/, "nothing of the refused change was applied");

  // The same content as the file is no takeover: nothing changes.
  const same = join(dir, "same.yaml");
  writeFileSync(same, serviceYaml("backend", 9000));
  assert.equal((await cli(["apply", "-f", same], env)).code, 0);

  const forced = await cli(["apply", "-f", mine, "--force"], env);
  assert.equal(forced.code, 0, forced.err);
  assert.match(forced.err, /warning: Service\/backend metadata\.name: .*takes it over.*\[object\.file_takeover\]/);
  assert.match(forced.out, /^applied: revision 2\n/);
  const after = await cli(["get"], env);
  assert.match(after.out, /Service\/backend +2 +cli /);
  assert.match(after.out, /Service\/other +2 +cli /);
});
