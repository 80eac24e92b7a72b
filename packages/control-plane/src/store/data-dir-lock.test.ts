import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { StartupError } from "../startup/startup-error.ts";
import { lockDataDir } from "./data-dir-lock.ts";

const inUse = (dir: string, pid: number) => (e: unknown) =>
  e instanceof StartupError && e.code === "data_dir_in_use" && e.message.includes(`process ${pid}`) && e.message.includes(dir) && e.message.includes("--data-dir");

describe("data directory lock", () => {
  it("is exclusive: a second lock names the owner's pid and the directory, and works again once released", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-lock-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const lock = lockDataDir(dir);
    const mine = JSON.parse(readFileSync(lock.file, "utf8")) as { pid: number; host: string };
    assert.equal(mine.pid, process.pid);
    assert.throws(() => lockDataDir(dir), (e: unknown) => inUse(dir, process.pid)(e) && (e as Error).message.includes("this one"));
    // Another live process holds it (play one: our parent). release() removes only its own lock.
    writeFileSync(lock.file, JSON.stringify({ pid: process.ppid, host: mine.host, startedAt: "then" }));
    lock.release();
    assert.ok(existsSync(lock.file));
    assert.throws(() => lockDataDir(dir), inUse(dir, process.ppid));
    rmSync(lock.file);
    const again = lockDataDir(dir);
    again.release();
    again.release();
    assert.equal(existsSync(again.file), false);
  });

  it("replaces a stale lock whose process is gone, and an unreadable one", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-lock-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.ok(gone !== undefined);
    const file = join(dir, "control-plane.lock");
    const first = lockDataDir(dir);
    const host = JSON.parse(readFileSync(file, "utf8")).host as string;
    first.release();
    writeFileSync(file, JSON.stringify({ pid: gone, host, startedAt: "yesterday" }));
    const lock = lockDataDir(dir);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).pid, process.pid);
    lock.release();
    writeFileSync(file, "");
    lockDataDir(dir).release();
  });

  it("never takes over a lock written on another host, and says how to remove it", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-lock-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "control-plane.lock"), JSON.stringify({ pid: 1234567, host: "other-host.example", startedAt: "t" }));
    assert.throws(
      () => lockDataDir(dir),
      (e: unknown) => inUse(dir, 1234567)(e) && (e as Error).message.includes("on host other-host.example") && (e as Error).message.includes("delete "),
    );
  });
});
