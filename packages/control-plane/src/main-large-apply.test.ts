import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { canaryServices, largeConfig, unslicedReason, watchResponsiveness } from "./admin/large-apply-kit.ts";
import { serve } from "./main.ts";

// Issue 14: "large applies are processed without blocking the event loop for more than
// ~100 ms at a time": a 20,000-object apply while a canary xDS stream keeps being answered
// and GET /healthz is polled every 20 ms. The test holds the watch to slicedBounds
// (large-apply-kit.ts): far above a slice, far below the unsliced run, so it proves the
// slicing on any machine; the ~100 ms figure itself is printed by bench/large-apply.ts.
//
// The bounds are on this thread's CPU time (large-apply-kit.ts), not on wall-clock time:
// the suite runs on 2 cores shared with other runs, where a wall-clock wait also counts
// the time other processes held the cores (at a load of 6 the same run waits 1.5-3x longer
// in wall-clock time). The CPU time our thread spent before a probe was answered is what
// the control plane controls, and is what a probe would wait on a machine of its own.
// The wall-clock figures are reported with the result. Before the apply was processed in
// slices, this thread spent 2.4-3.8 s of CPU at once (bench/large-apply.ts), every probe
// waiting for all of it.

const objects = 20_000;

test(`a ${objects}-object apply runs in slices: /healthz and an xDS stream keep being answered; a change sent meanwhile is committed before or after it, never interleaved`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-large-apply-"));
  const cp = await serve({ xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: join(dir, "data"), configPaths: [], debounceMs: 5, log: () => {} });
  t.after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = async (method: string, path: string, body: unknown): Promise<{ status: number; json: { revision?: number; changes?: unknown[] } }> => {
    const res = await fetch(`http://127.0.0.1:${cp.adminPort}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { revision?: number; changes?: unknown[] } };
  };
  assert.equal((await api("POST", "/api/v1/apply", { items: canaryServices })).status, 200);

  const watch = await watchResponsiveness({ adminPort: cp.adminPort, canary: new RawXdsClient({ port: cp.xdsPort, nodeId: "canary" }) });
  // Registered after the server's close, so it runs first: the probes stop before the server goes
  // (stop() runs once; a probe's failure is reported by the test's own call).
  t.after(() => watch.stop().catch(() => undefined));
  const large = api("POST", "/api/v1/apply", { items: largeConfig(objects) });
  // Sent while the large apply is under way: whichever reaches the reconciler first is judged and
  // committed first, the other after it (consecutive revisions), never the two interleaved.
  await new Promise((r) => setTimeout(r, 200));
  const moved = { ...canaryServices[0], spec: { endpoints: [{ address: "127.0.0.1", port: 9200 }] } };
  const small = api("PUT", "/api/v1/objects/Service/canary-a", moved);
  const [bulk, one] = await Promise.all([large, small]);
  const seen = await watch.stop();
  t.diagnostic(JSON.stringify(seen));

  assert.equal(bulk.status, 200, JSON.stringify(bulk.json).slice(0, 2000));
  assert.equal(bulk.json.changes?.length, objects);
  assert.equal(one.status, 200, JSON.stringify(one.json));
  assert.equal(Math.abs((one.json.revision ?? 0) - (bulk.json.revision ?? 0)), 1, `consecutive revisions: ${one.json.revision}, ${bulk.json.revision}`);
  // Everything accepted is stored.
  const listed = (await (await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/objects`)).json()) as { items: { key: string; object: { spec: unknown } }[] };
  assert.equal(listed.items.length, objects + canaryServices.length);
  assert.deepEqual(listed.items.find((i) => i.key === "Service/canary-a")?.object.spec, moved.spec);

  assert.equal(unslicedReason(seen), undefined);
});
