import assert from "node:assert/strict";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { StreamMetricsMessageSchema } from "@ts-control-plane/envoy-api/envoy/service/metrics/v3/metrics_service_pb";
import { MetricFamilySchema, MetricType } from "@ts-control-plane/envoy-api/io/prometheus/client/metrics_pb";
import { createTrafficSink } from "./traffic-sink.ts";

const counter = (name: string, value: number) => create(MetricFamilySchema, { name, type: MetricType.COUNTER, metric: [{ counter: { value } }] });

test("keeps each node's downstream requests and 5xx over its HTTP listeners, from the MetricsService stream Envoy pushes", async (t) => {
  const sink = createTrafficSink({ log: () => {} });
  const port = await sink.listen({ host: "127.0.0.1", port: 0 });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(async () => {
    client.close();
    await sink.close();
  });
  let updates = 0;
  const updated = new Promise<void>((resolve) => sink.onUpdate(() => ++updates === 2 && resolve()));
  const call = client.makeClientStreamRequest(
    "/envoy.service.metrics.v3.MetricsService/StreamMetrics",
    (m: Buffer) => m,
    (b: Buffer) => b,
    () => {},
  );
  // As Envoy does: the node in the first message only; counters cumulative.
  call.write(
    Buffer.from(
      toBinary(
        StreamMetricsMessageSchema,
        create(StreamMetricsMessageSchema, {
          identifier: { node: { id: "edge-1" } },
          envoyMetrics: [counter("http.web.downstream_rq_completed", 10), counter("http.web.downstream_rq_5xx", 1), counter("http.admin.downstream_rq_completed", 99), counter("cluster.backend.upstream_rq_5xx", 7), counter("cluster.backend.upstream_cx_total", 6), counter("cluster.backend.upstream_cx_connect_fail", 2), counter("cluster.xds_cluster.upstream_cx_connect_fail", 3)],
        }),
      ),
    ),
  );
  call.write(
    Buffer.from(
      toBinary(
        StreamMetricsMessageSchema,
        create(StreamMetricsMessageSchema, { envoyMetrics: [counter("http.web.downstream_rq_completed", 30), counter("http.web.downstream_rq_5xx", 4), counter("http.api.v2.downstream_rq_completed", 5), counter("cluster.backend.upstream_cx_total", 9), counter("cluster.backend.upstream_cx_connect_fail", 4), counter("cluster.svc.v2.upstream_cx_total", 1), counter("cluster.xds_cluster.upstream_cx_total", 8)] }),
      ),
    ),
  );
  await updated;
  assert.deepEqual(sink.nodes(), ["edge-1"]);
  // Envoy's own admin listener and the control plane's clusters are not the proxy's traffic.
  assert.deepEqual(sink.counts("edge-1"), { requests: 35, errors5xx: 4, connects: 10, connectFailures: 4 });
  assert.equal(sink.counts("edge-2"), undefined);
  call.end();
});
