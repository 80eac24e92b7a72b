// Issue 8, bug 5: `tcp apply` of an object that a watched file defines took it
// over silently. It now warns, naming the file whose next edit takes it back;
// `tcp get` shows who defines each object.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serve } from "../main.ts";
import { cli, serveOptions, serviceYaml } from "./cli-test-kit.ts";

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("apply warns when it takes over an object a watched file defines, and get shows each object's source", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-file-owned-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const watched = join(dir, "conf.yaml");
  writeFileSync(watched, serviceYaml("backend", 9000));
  const cp = await serve(serveOptions(join(dir, "data"), { configPaths: [watched] }));
  t.after(() => cp.close());
  const env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
  const before = await cli(["get"], env);
  assert.match(before.out, new RegExp(`Service/backend +1 +file:${esc(watched)} `));

  // The same content as the file is no takeover: nothing changes, nothing to warn about.
  const same = join(dir, "same.yaml");
  writeFileSync(same, serviceYaml("backend", 9000));
  const unchanged = await cli(["apply", "-f", same], env);
  assert.equal(unchanged.code, 0, unchanged.err);
  assert.equal(unchanged.err, "");

  const mine = join(dir, "mine.yaml");
  writeFileSync(mine, `${serviceYaml("backend", 9001)}---\n${serviceYaml("other", 9002)}`);
  const dry = await cli(["apply", "-f", mine, "--dry-run"], env);
  assert.match(dry.err, /object\.file_takeover/, "a dry run says so too");
  const applied = await cli(["apply", "-f", mine], env);
  assert.equal(applied.code, 0, applied.err);
  assert.match(applied.out, /^applied: revision 2 \(change chg-2\)\n/);
  assert.match(
    applied.err,
    new RegExp(`^${esc(mine)}:\\d+:\\d+: warning: Service/backend metadata\\.name: Service/backend was defined by the watched file ${esc(watched)}; this change takes it over .*\\(hint: edit ${esc(watched)} instead.*\\[object\\.file_takeover\\]\\n$`),
  );
  const after = await cli(["get"], env);
  assert.match(after.out, /Service\/backend +2 +cli /);
  assert.match(after.out, /Service\/other +2 +cli /);
});
