import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { canaryServices, largeConfig, unslicedReason, watchResponsiveness } from "./admin/large-apply-kit.ts";
import { serve } from "./main.ts";

// Issue 14, for watched files: saving a 20,000-object file under `--config` must not block
// the event loop for more than ~100 ms at a time either. The file is read, parsed, judged,
// stored and pushed in slices, on the same change queue as the admin API, while a canary xDS
// stream and GET /healthz keep being answered. The bounds are on this thread's CPU time, as in
// main-large-apply.test.ts (which says why). Before file changes went through the queue, the
// whole file was parsed, compiled and stored in one synchronous run of seconds.

const objects = 20_000;

test(`saving a watched file of ${objects} objects runs in slices: /healthz and an xDS stream keep being answered; an API change sent meanwhile is committed before or after it`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-large-file-"));
  const conf = join(dir, "conf");
  mkdirSync(conf);
  const lines: string[] = [];
  const cp = await serve({
    xdsHost: "127.0.0.1",
    xdsPort: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    dataDir: join(dir, "data"),
    configPaths: [conf],
    debounceMs: 5,
    log: (line) => lines.push(line),
  });
  t.after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = async (method: string, path: string, body: unknown): Promise<{ status: number; json: { revision?: number } }> => {
    const res = await fetch(`http://127.0.0.1:${cp.adminPort}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { revision?: number } };
  };
  assert.equal((await api("POST", "/api/v1/apply", { items: canaryServices })).status, 200);

  // Made before the probes start: writing the file is the operator's editor, not the control plane's work.
  const file = join(conf, "bulk.yaml");
  const staged = join(dir, "bulk.yaml.tmp");
  writeFileSync(staged, largeConfig(objects).map((o) => stringify(o)).join("---\n"));

  const watch = await watchResponsiveness({ adminPort: cp.adminPort, canary: new RawXdsClient({ port: cp.xdsPort, nodeId: "canary" }) });
  // Registered after the server's close, so it runs first: the probes stop before the server goes
  // (stop() runs once; a probe's failure is reported by the test's own call).
  t.after(() => watch.stop().catch(() => undefined));
  // A rename, as editors save: the watch never sees a half-written file.
  renameSync(staged, file);
  const accepted = new RegExp(`^accepted change from ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: revision (\\d+)`);
  const waitFor = async (what: string, fn: () => string | undefined): Promise<string> => {
    for (let i = 0; i < 3000; i++) {
      const found = fn();
      if (found !== undefined) return found;
      if (lines.some((l) => l.startsWith("refused change from"))) assert.fail(`refused: ${lines.join("\n").slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`timed out waiting for ${what}: ${lines.join("\n").slice(-3000)}`);
  };
  // Sent while the file is being processed: one queue, so it is committed before or after the file's change.
  await new Promise((r) => setTimeout(r, 200));
  const moved = { ...canaryServices[0], spec: { endpoints: [{ address: "127.0.0.1", port: 9200 }] } };
  const one = await api("PUT", "/api/v1/objects/Service/canary-a", moved);
  const revision = Number(await waitFor("the file's change", () => lines.map((l) => accepted.exec(l)?.[1]).find((r) => r !== undefined)));
  await waitFor("the file's push", () => lines.find((l) => Number(/^revision (\d+) compiled and pushed/.exec(l)?.[1] ?? 0) >= revision));
  const seen = await watch.stop();
  t.diagnostic(JSON.stringify(seen));

  assert.equal(one.status, 200, JSON.stringify(one.json));
  assert.equal(Math.abs((one.json.revision ?? 0) - revision), 1, `consecutive revisions: ${one.json.revision}, ${revision}`);
  const listed = (await (await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/objects`)).json()) as { items: { key: string; source: string; object: { spec: unknown } }[] };
  assert.equal(listed.items.length, objects + canaryServices.length);
  assert.equal(listed.items.filter((i) => i.source === `file:${file}`).length, objects);
  assert.deepEqual(listed.items.find((i) => i.key === "Service/canary-a")?.object.spec, moved.spec);

  assert.equal(unslicedReason(seen), undefined);
});
