// The exposition reader the metrics e2e test and the latency benchmark use: values by labels, and quantiles as histogram_quantile estimates them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { histogramQuantile, histogramSince, PrometheusScrape } from "./prometheus-text.ts";

const text = `# HELP t_x_seconds a histogram
# TYPE t_x_seconds histogram
t_x_seconds_bucket{le="0.01",type="a"} 2
t_x_seconds_bucket{le="0.1",type="a"} 6
t_x_seconds_bucket{le="+Inf",type="a"} 8
t_x_seconds_sum{type="a"} 1.5
t_x_seconds_count{type="a"} 8
t_x_seconds_bucket{le="0.01",type="b"} 2
t_x_seconds_bucket{le="0.1",type="b"} 2
t_x_seconds_bucket{le="+Inf",type="b"} 2
t_x_seconds_sum{type="b"} 0.01
t_x_seconds_count{type="b"} 2
t_acks_total{type="a",group="g \\"1\\""} 3
t_revision 7
`;

test("values are summed over the series whose labels match", () => {
  const s = new PrometheusScrape(text);
  assert.equal(s.get("t_revision"), 7);
  assert.equal(s.get("t_acks_total", { type: "a" }), 3);
  assert.equal(s.get("t_acks_total", { type: "b" }), 0);
  assert.equal(s.get("t_x_seconds_count"), 10);
  assert.deepEqual(s.histogram("t_x_seconds").buckets, [{ le: 0.01, count: 4 }, { le: 0.1, count: 8 }, { le: Number.POSITIVE_INFINITY, count: 10 }]);
});

test("quantiles interpolate within the bucket that holds the rank, as histogram_quantile", () => {
  const a = new PrometheusScrape(text).histogram("t_x_seconds", { type: "a" });
  assert.equal(histogramQuantile(0.25, a), 0.01); // rank 2: the first bucket's top
  assert.ok(Math.abs(histogramQuantile(0.5, a) - 0.055) < 1e-12); // rank 4: halfway through (0.01, 0.1]
  assert.equal(histogramQuantile(0.95, a), 0.1); // in +Inf: the highest finite bound
  assert.ok(Number.isNaN(histogramQuantile(0.5, { buckets: [], count: 0, sum: 0 })));
});

test("a histogram between two scrapes is their difference", () => {
  const before = new PrometheusScrape(text).histogram("t_x_seconds", { type: "b" });
  const after = new PrometheusScrape(text).histogram("t_x_seconds");
  const since = histogramSince(after, before);
  assert.equal(since.count, 8);
  assert.deepEqual(since.buckets.map((b) => b.count), [2, 6, 8]);
});
