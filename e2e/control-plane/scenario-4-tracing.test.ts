// Scenario 4 through the runnable control plane, driven only by the CLI: an
// empty control plane gets scenario-4.yaml (ports/addresses rewritten) with
// `tcp apply -f`; a request through Envoy produces a Zipkin span, named by the
// route's decorator, that arrives at a local collector as HTTP_JSON on
// /api/v2/spans, in the same trace as the headers the upstream saw.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { runCliProcess, startControlPlane } from "./control-plane-process.ts";
import { loopbackListener, writeExampleCopy } from "./support/example-copy.ts";
import { startRecordingUpstream } from "./support/recording-upstream.ts";
import { startZipkinCollector } from "./support/zipkin-collector.ts";

test("scenario 4: tracing from scenario-4.yaml applied with the CLI: a request's span, named by the route decorator, reaches a local Zipkin collector", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-s4-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const collector = await startZipkinCollector({ t });
  const service1 = await startRecordingUpstream({ body: "served by service1\n", t });
  const listenerPort = await freePort();
  // The example as written, except its fixed ports (10000, 9411, 8081) become
  // the test's ephemeral ones and the listener stays on loopback.
  const config = writeExampleCopy(
    "scenario-4.yaml",
    [
      { kind: "Listener", name: "listener_0", path: ["spec", "port"], value: listenerPort },
      loopbackListener("listener_0"),
      { kind: "Service", name: "zipkin_collector", path: ["spec", "endpoints", 0, "port"], value: collector.port },
      { kind: "Service", name: "service1", path: ["spec", "endpoints", 0, "port"], value: service1.port },
    ],
    dir,
  );

  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const applied = await runCliProcess(["apply", "-f", config], { server: cp.adminUrl });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /applied: revision \d+/);

  const boot = await runCliProcess(["bootstrap", "--node", "trace-1", "--cluster", "front-envoy"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const bootstrap = parse(boot.stdout) as Record<string, Json>;
  // Envoy's Zipkin tracer batches spans: it posts once 5 buffered spans or a
  // 5 s timer are reached. One span is all this test makes, so a runtime knob in
  // Envoy's own bootstrap (not the control plane's configuration) posts each
  // span at once instead of waiting for the timer.
  bootstrap["layered_runtime"] = { layers: [{ name: "test", static_layer: { "tracing.zipkin.min_flush_spans": 1 } }] };
  const envoy = await startEnvoy({ bootstrap: bootstrap as Json, name: "cp-scenario4", t });

  const url = `http://127.0.0.1:${listenerPort}/check?item=42`;
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 15_000, description: "Envoy routes listener_0 to service1" });
  const sent = Date.now();
  // The request as service1 saw it: Envoy added the B3 context of its span.
  const seen = service1.requests.at(-1);
  assert.ok(seen !== undefined, "service1 saw the request");
  assert.equal(seen.path, "/check?item=42");
  const traceId = seen.headers["x-b3-traceid"];
  assert.equal(typeof traceId, "string", "Envoy propagates B3 trace headers upstream");
  const span = await waitUntil(() => collector.spans().find((s) => s.traceId === traceId), {
    timeoutMs: 12_000,
    description: `the span of trace ${String(traceId)} at the collector`,
    onTimeout: () => `collector got: ${JSON.stringify(collector.posts)}`,
  });
  t.diagnostic(`span at the collector ${Date.now() - sent} ms after the answer: ${JSON.stringify(span)}`);

  assert.equal(span.name, "checkAvailability", "the route decorator names the operation");
  assert.equal(span.tags?.["guid:x-request-id"], seen.headers["x-request-id"], "the span carries the request id the upstream saw");
  assert.equal(seen.headers["x-b3-sampled"], "1", "samplingPercent: 100 samples every request");
  assert.equal(span.kind, "SERVER");
  assert.equal(span.localEndpoint?.serviceName, "front-envoy", "Envoy names itself by its node cluster");
  assert.equal(span.tags?.["http.url"], `http://127.0.0.1:${listenerPort}/check?item=42`);
  assert.equal(span.tags?.["upstream_cluster"], "service1");
  assert.equal(span.tags?.["http.status_code"], "200");
  const post = collector.posts.find((p) => p.spans.includes(span));
  assert.equal(post?.path, "/api/v2/spans");
  assert.match(post?.contentType ?? "", /^application\/json/, "HTTP_JSON: spans are posted as JSON");

  const stats = await envoy.stats("^tracing\\.zipkin\\.");
  t.diagnostic(`Envoy tracing stats: ${JSON.stringify(Object.fromEntries(stats))}`);
  assert.ok((stats.get("tracing.zipkin.spans_sent") ?? 0) >= 1);
  assert.equal(stats.get("tracing.zipkin.reports_failed") ?? 0, 0);
  assert.equal(stats.get("tracing.zipkin.reports_dropped") ?? 0, 0);
});
