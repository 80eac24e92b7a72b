// docs/metrics.md's table is the contract: it lists exactly the metrics the
// control plane registers, and the exposition is Prometheus text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { createControlPlaneMetrics, metricPrefix } from "./control-plane-metrics.ts";

const table = readFileSync(new URL("../../../../docs/metrics.md", import.meta.url), "utf8");

test("docs/metrics.md lists exactly the registered metrics, each once", () => {
  const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] ?? "");
  const registered = createControlPlaneMetrics({ storedRevision: () => 0, cacheRevision: () => 0 }).names;
  assert.deepEqual([...documented].sort(), [...new Set(documented)].sort(), "a metric is listed twice");
  assert.deepEqual([...documented].sort(), [...registered].sort());
  assert.ok(registered.every((n) => n.startsWith(metricPrefix)));
});

test("serves the Prometheus text format, with the revisions and the queue depth read at scrape time", async () => {
  let stored = 3;
  const metrics = createControlPlaneMetrics({ storedRevision: () => stored, cacheRevision: () => 2 });
  assert.equal(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8");
  metrics.reconcile.compiled(12);
  metrics.reconcile.committed(3, { changed: true });
  metrics.reconcile.committed(1, { changed: false });
  const text = await metrics.text();
  assert.match(text, /^# TYPE tcp_store_revision gauge$/m);
  assert.match(text, /^tcp_store_revision 3$/m);
  assert.match(text, /^tcp_reconcile_queue_depth 1$/m);
  assert.match(text, /^tcp_revisions_total 1$/m);
  assert.match(text, /^tcp_compile_duration_seconds_count 1$/m);
  assert.match(text, /^tcp_compile_duration_seconds_sum 0\.012$/m);
  assert.match(text, /^tcp_store_commit_duration_seconds_count 2$/m);
  stored = 2;
  assert.match(await metrics.text(), /^tcp_reconcile_queue_depth 0$/m);
});
