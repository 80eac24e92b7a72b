// OpenTelemetry through the runnable control plane, driven by the CLI: an empty
// control plane gets opentelemetry.yaml (ports rewritten) with `tcp apply -f`; a
// request through Envoy produces a span, named by the route's decorator, and an
// access-log record, both exported over OTLP gRPC to a local collector Service.
// Making that Service HTTP1 is then refused (gRPC needs HTTP/2) and export goes on.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
import { startOtlpCollector } from "./support/otlp-collector.ts";
import { startRecordingUpstream } from "./support/recording-upstream.ts";

test("opentelemetry.yaml applied with the CLI: a request's span and its access-log record reach a local OTLP gRPC collector", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-otel-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const collector = await startOtlpCollector({ t });
  const service1 = await startRecordingUpstream({ body: "served by service1\n", t });
  const listenerPort = await freePort();
  const config = writeExampleCopy(
    "opentelemetry.yaml",
    [
      { kind: "Listener", name: "listener_0", path: ["spec", "port"], value: listenerPort },
      loopbackListener("listener_0"),
      { kind: "Service", name: "otel_collector", path: ["spec", "endpoints", 0, "port"], value: collector.port },
      { kind: "Service", name: "service1", path: ["spec", "endpoints", 0, "port"], value: service1.port },
    ],
    dir,
  );

  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const applied = await runCliProcess(["apply", "-f", config], { server: cp.adminUrl });
  assert.equal(applied.code, 0, applied.stderr);

  const boot = await runCliProcess(["bootstrap", "--node", "otel-1", "--cluster", "front-envoy"], { server: cp.adminUrl });
  assert.equal(boot.code, 0, boot.stderr);
  const bootstrap = parse(boot.stdout) as Record<string, Json>;
  // Envoy's OpenTelemetry tracer exports once 5 spans are buffered or a 5 s timer
  // fires; this test makes one span, so a runtime knob of Envoy's own bootstrap
  // (not the control plane's configuration) exports each span at once.
  bootstrap["layered_runtime"] = { layers: [{ name: "test", static_layer: { "tracing.opentelemetry.min_flush_spans": 1 } }] };
  const envoy = await startEnvoy({ bootstrap: bootstrap as Json, name: "cp-otel", t });

  const url = `http://127.0.0.1:${listenerPort}/check?item=42`;
  await waitUntil(async () => (await httpGet(url)).status === 200, { timeoutMs: 15_000, description: "Envoy routes listener_0 to service1" });
  const sent = Date.now();
  // The request as service1 saw it: Envoy added the W3C context of its span.
  const seen = service1.requests.at(-1);
  assert.ok(seen !== undefined, "service1 saw the request");
  const traceparent = seen.headers["traceparent"];
  assert.equal(typeof traceparent, "string", "Envoy propagates W3C trace context upstream");
  const traceId = String(traceparent).split("-")[1];

  const span = await waitUntil(() => collector.spans().find((s) => s.traceId === traceId), {
    timeoutMs: 12_000,
    description: `the span of trace ${String(traceId)} at the collector`,
    onTimeout: () => `collector got ${collector.calls.traces} trace exports: ${JSON.stringify(collector.spans())}`,
  });
  t.diagnostic(`span at the collector ${Date.now() - sent} ms after the answer: ${JSON.stringify(span)}`);
  assert.equal(span.name, "checkAvailability", "the route decorator names the operation");
  assert.equal(span.resource["service.name"], "front-envoy", "serviceName is the resource's service.name");
  assert.equal(span.kind, 2, "SPAN_KIND_SERVER");
  assert.equal(span.attributes["upstream_cluster"], "service1");
  assert.equal(span.attributes["http.status_code"], "200");
  assert.equal(span.attributes["guid:x-request-id"], seen.headers["x-request-id"], "the span carries the request id the upstream saw");

  // Access-log records are buffered by Envoy and exported about once a second.
  const record = await waitUntil(() => collector.logs().find((l) => l.attributes["path"] === "/check?item=42"), {
    timeoutMs: 12_000,
    description: "the access-log record of /check?item=42 at the collector",
    onTimeout: () => `collector got ${collector.calls.logs} log exports: ${JSON.stringify(collector.logs())}`,
  });
  t.diagnostic(`log record at the collector ${Date.now() - sent} ms after the answer: ${JSON.stringify(record)}`);
  assert.equal(record.body, "GET /check?item=42 200", "body is the text format with its command operators filled in");
  assert.deepEqual(record.attributes, { path: "/check?item=42", status: "200", upstream: "service1" });
  assert.equal(record.resource["log_name"], "front-requests");
  assert.equal(record.resource["node_name"], "otel-1");
  assert.equal(record.resource["cluster_name"], "front-envoy");
  assert.equal(record.traceId, traceId, "the record is in the request's trace");

  const stats = await envoy.stats("^(tracing\\.opentelemetry|access_logs)\\.");
  t.diagnostic(`Envoy stats: ${JSON.stringify(Object.fromEntries(stats))}`);
  assert.ok((stats.get("tracing.opentelemetry.spans_sent") ?? 0) >= 1);
  assert.equal(stats.get("tracing.opentelemetry.spans_dropped") ?? 0, 0);
  assert.ok((stats.get("access_logs.open_telemetry_access_log.logs_written") ?? 0) >= 1);
  assert.equal(stats.get("access_logs.open_telemetry_access_log.logs_dropped") ?? 0, 0);

  // Turning the collector into an HTTP1 Service would break gRPC export: the change
  // is refused with the fix, and the fleet keeps exporting on its last good config.
  const http1 = join(dir, "collector-http1.yaml");
  writeFileSync(
    http1,
    ["apiVersion: tcp.dev/v1alpha1", "kind: Service", "metadata: { name: otel_collector }", "spec:", "  protocol: HTTP1", `  endpoints: [{ address: 127.0.0.1, port: ${collector.port} }]`, ""].join("\n"),
  );
  const refused = await runCliProcess(["apply", "-f", http1], { server: cp.adminUrl });
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /AccessLog\/otel_requests spec\.service: An OpenTelemetry access log speaks gRPC to Service 'otel_collector', which is HTTP1 \(hint: set protocol: HTTP2 on Service 'otel_collector'\) \[ref\.grpc_needs_http2\]/);
  assert.match(refused.stderr, /Tracing\/otel spec\.opentelemetry\.service: .*\[ref\.grpc_needs_http2\]/);
  assert.equal((await httpGet(`http://127.0.0.1:${listenerPort}/after-refusal`)).status, 200);
  await waitUntil(() => collector.logs().find((l) => l.attributes["path"] === "/after-refusal"), {
    timeoutMs: 12_000,
    description: "the access-log record of a request after the refused change",
  });
});
