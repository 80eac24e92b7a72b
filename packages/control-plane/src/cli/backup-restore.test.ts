import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { serve } from "../main.ts";
import { openObjectStore } from "../store/object-store.ts";
import { cli, serveForTests, serviceYaml } from "./cli-test-kit.ts";

// Issue 14: `tcp backup` while serving, `tcp restore` into a stopped control plane's data directory.

it("backs up a running control plane, refuses to restore under it, and restores once it is stopped", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-backup-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, "data");
  const { cp, env } = await serveForTests(dir);
  let running = true;
  t.after(async () => {
    if (running) await cp.close();
  });
  assert.equal((await cli(["apply", "-f", "-"], env, `${serviceYaml("a", 8081)}---\n${serviceYaml("b", 8082)}`)).code, 0);

  const backup = join(dir, "backups", "cp.db");
  const b = await cli(["backup", backup, "--data-dir", dataDir]);
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /backed up revision 1 \(2 objects\) to .*cp\.db/);
  const again = await cli(["backup", backup, "--data-dir", dataDir]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists/);

  // A later change, and the refusal while the control plane holds the directory, naming it.
  assert.equal((await cli(["apply", "-f", "-"], env, serviceYaml("c", 8083))).code, 0);
  const busy = await cli(["restore", backup], { CONTROL_PLANE_DATA_DIR: dataDir });
  assert.equal(busy.code, 1);
  assert.match(busy.err, new RegExp(`in use by another control plane \\(process ${process.pid}`));

  await cp.close();
  running = false;
  // A damaged backup is refused before anything is replaced.
  const bad = join(dir, "bad.db");
  writeFileSync(bad, "not a database");
  const refused = await cli(["restore", bad, "--data-dir", dataDir]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /bad\.db/);

  // The store is lost: serve refuses; restore brings revision 1 back and keeps what it replaced.
  truncateSync(join(dataDir, "control-plane.db"), 0);
  for (const s of ["-wal", "-shm"]) rmSync(join(dataDir, `control-plane.db${s}`), { force: true });
  const options = { xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir, configPaths: [], debounceMs: 5, log: () => {} };
  await assert.rejects(serve(options), (e: unknown) => (e as { code?: string }).code === "store_lost");
  const r = await cli(["restore", backup, "--data-dir", dataDir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /restored revision 1 \(2 objects\)/);
  assert.ok(readdirSync(dataDir).some((f) => f.startsWith("control-plane.db.before-restore-")));
  assert.ok(existsSync(backup), "the backup itself is left as it was");

  const restarted = await serve(options);
  try {
    const got = await cli(["get", "-o", "name"], { CONTROL_PLANE_SERVER: `http://127.0.0.1:${restarted.adminPort}` });
    assert.deepEqual(got.out.trim().split("\n"), ["Service/a", "Service/b"]);
  } finally {
    await restarted.close();
  }
});

it("says what is wrong with the arguments", async () => {
  const r = await cli(["backup"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /backup takes one file/);
  const missing = await cli(["restore", "/nonexistent/backup.db", "--data-dir", "/nonexistent/data"]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /the backup \/nonexistent\/backup\.db does not exist/);
});

it("a backup taken by another process while changes keep landing holds exactly one revision", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-backup-live-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { cp, env } = await serveForTests(dir);
  t.after(() => cp.close());
  // Every revision adds one Service, so a consistent copy has as many objects as its revision number.
  let writing = true;
  let applied = 0;
  const writer = (async () => {
    while (writing) {
      const r = await cli(["apply", "-f", "-"], env, serviceYaml(`s${applied}`, 8000 + (applied % 1000)));
      assert.equal(r.code, 0, r.err);
      applied++;
    }
  })();
  while (applied < 3) await new Promise((r) => setTimeout(r, 5));
  const backup = join(dir, "live.db");
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("./main.ts", import.meta.url)), "backup", backup, "--data-dir", join(dir, "data")], { stdio: "ignore" });
    child.once("exit", resolve);
  });
  const during = applied;
  writing = false;
  await writer;
  assert.equal(code, 0);
  const copy = openObjectStore({ file: backup });
  try {
    const revision = copy.currentRevision();
    // One apply may have committed without its answer having arrived yet: at most one past `during`.
    assert.ok(revision >= 3 && revision <= during + 1, `revision ${revision} of ${during}`);
    assert.equal(copy.list().length, revision);
    assert.equal(copy.history({ limit: 10_000 }).length, revision);
  } finally {
    copy.close();
  }
  t.diagnostic(`changes applied while the backup ran: about ${during - 3}; every object of the copy's revision and no other`);
});
