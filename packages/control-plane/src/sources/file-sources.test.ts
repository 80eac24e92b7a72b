import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compile } from "../compile.ts";
import { type ChangeSet, type ObjectStore, openObjectStore } from "../store/object-store.ts";
import { createFileSources, fileSource } from "./file-sources.ts";

const service = (name: string, port: number) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  endpoints:\n    - address: 127.0.0.1\n      port: ${port}\n`;

/**
 * The sources' contract with whoever applies their changes (the reconciler, a
 * higher layer): validate the candidate set with the real compile(), store it
 * when nothing is rejected.
 */
function validatingApply(store: ObjectStore) {
  return async (plan: () => ChangeSet) => {
    const change = plan();
    const result = compile(store.preview(change).objects);
    if (result.rejected.length > 0) return { accepted: false, changed: false, diagnostics: result.diagnostics };
    const committed = await store.commit(change);
    return { accepted: true, changed: committed.changed, revision: committed.revision, diagnostics: [] };
  };
}

/** Polls a condition every 20 ms, for at most 5 s: file events have no completion signal of their own. */
async function eventually(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

describe("file sources", () => {
  const root = mkdtempSync(join(tmpdir(), "cp-files-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("applies a watched directory, hot-reloads edits (also saved by rename), refuses a broken file and deletes removed objects", async () => {
    const conf = join(root, "conf");
    mkdirSync(conf);
    writeFileSync(join(conf, "a.yaml"), service("a", 8081));
    writeFileSync(join(conf, "b.yaml"), `${service("b", 8082)}---\n${service("b2", 8083)}`);
    const store = openObjectStore({ file: join(root, "db", "control-plane.db") });
    const lines: string[] = [];
    const sources = createFileSources({
      paths: [conf],
      store,
      apply: validatingApply(store),
      debounceMs: 30,
      missingGraceMs: 400,
      log: (l) => lines.push(l),
    });
    try {
      const [first] = await sources.start();
      assert.equal(first?.accepted, true);
      assert.deepEqual(store.list().map((s) => [s.key, s.source]), [
        ["Service/a", fileSource(join(conf, "a.yaml"))],
        ["Service/b", fileSource(join(conf, "b.yaml"))],
        ["Service/b2", fileSource(join(conf, "b.yaml"))],
      ]);
      const portOf = (key: string) => (store.get(key)?.object.spec["endpoints"] as { port: number }[] | undefined)?.[0]?.port;

      // An editor that writes a temp file and renames it over the original.
      writeFileSync(join(conf, ".a.yaml.tmp"), service("a", 9091));
      renameSync(join(conf, ".a.yaml.tmp"), join(conf, "a.yaml"));
      await eventually("a.yaml edit applied", () => portOf("Service/a") === 9091);
      assert.equal(store.history()[0]?.source, fileSource(join(conf, "a.yaml")));

      // A broken file is refused with file:line:col diagnostics; its objects stay as they were.
      writeFileSync(join(conf, "a.yaml"), service("a", 70000));
      await eventually(`refusal logged (${lines.join("; ")})`, () => lines.some((l) => l.startsWith("refused change from")));
      assert.ok(lines.some((l) => l.includes(`${join(conf, "a.yaml")}:8:13: error: Service/a spec.endpoints[0].port`)), lines.join("\n"));
      assert.equal(portOf("Service/a"), 9091);

      // A YAML syntax error is refused the same way, with its position.
      const refusals = lines.filter((l) => l.startsWith("refused change from")).length;
      writeFileSync(join(conf, "a.yaml"), "kind: [unclosed\n");
      await eventually("syntax refusal logged", () => lines.filter((l) => l.startsWith("refused change from")).length > refusals);
      assert.ok(lines.some((l) => l.includes(`${join(conf, "a.yaml")}:2:1: error:`) && l.includes("[yaml.syntax]")), lines.join("\n"));
      assert.equal(portOf("Service/a"), 9091);

      // An editor that deletes the file before writing the new one: no deletion reaches the store.
      unlinkSync(join(conf, "a.yaml"));
      await new Promise((r) => setTimeout(r, 100)); // let the debounced flush see the file missing
      writeFileSync(join(conf, "a.yaml"), service("a", 9092));
      await eventually("a.yaml rewrite applied", () => portOf("Service/a") === 9092);
      await sources.settle();
      assert.ok(!store.history().some((h) => h.changes.some((c) => c.key === "Service/a" && c.action === "deleted")));

      // Removing an object from a file deletes it; deleting the file deletes the rest.
      const before = store.currentRevision();
      writeFileSync(join(conf, "b.yaml"), service("b", 8082));
      await eventually("b2 deleted", () => store.get("Service/b2") === undefined);
      assert.equal(store.currentRevision(), before + 1);
      unlinkSync(join(conf, "b.yaml"));
      await eventually("b deleted", () => store.get("Service/b") === undefined);
    } finally {
      sources.close();
      store.close();
    }
  });

  // Issue 14: lost files are not an operator's delete; an empty fleet takes an explicit `tcp delete`.
  it("keeps the objects live when every config file vanishes or the --config directory itself is gone", async () => {
    const store = openObjectStore({ file: join(root, "db-lost", "control-plane.db") });
    const lines: string[] = [];
    const start = (conf: string) =>
      createFileSources({ paths: [conf], store, apply: validatingApply(store), debounceMs: 20, missingGraceMs: 100, log: (l) => lines.push(l) });
    const conf = join(root, "lost");
    mkdirSync(conf);
    writeFileSync(join(conf, "a.yaml"), service("a", 8081));
    writeFileSync(join(conf, "b.yaml"), service("b", 8082));
    const sources = start(conf);
    try {
      assert.equal((await sources.start())[0]?.accepted, true);
      const revision = store.currentRevision();
      unlinkSync(join(conf, "a.yaml"));
      unlinkSync(join(conf, "b.yaml"));
      await eventually(`refusal logged (${lines.join("; ")})`, () => lines.some((l) => l.includes("[files.would_delete_everything]")));
      await sources.settle();
      assert.deepEqual(store.list().map((o) => o.key), ["Service/a", "Service/b"]);
      assert.equal(store.currentRevision(), revision);
      assert.ok(lines.some((l) => /would delete all 2 stored objects/.test(l) && /tcp delete/.test(l)), lines.join("\n"));

      writeFileSync(join(conf, "a.yaml"), service("a", 8081));
      writeFileSync(join(conf, "b.yaml"), service("b", 8082));
      await sources.settle();
      rmSync(conf, { recursive: true, force: true });
      await eventually(`missing directory logged (${lines.join("; ")})`, () => lines.some((l) => l.startsWith(`config path ${conf} is missing`)));
      await sources.settle();
      assert.deepEqual(store.list().map((o) => o.key), ["Service/a", "Service/b"]);
    } finally {
      sources.close();
    }
    // At start too: a --config directory that is gone deletes nothing.
    const again = start(conf);
    try {
      await again.start();
      assert.deepEqual(store.list().map((o) => o.key), ["Service/a", "Service/b"]);
    } finally {
      again.close();
      store.close();
    }
  });
});
