// Reads a Prometheus text exposition (GET /metrics) for tests and benchmarks:
// sample values by name and labels, and quantiles of a histogram estimated
// from its buckets the way PromQL's histogram_quantile does.
import assert from "node:assert/strict";

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A histogram summed over the series that match: cumulative bucket counts by upper bound, and its count and sum. */
export interface HistogramView {
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly count: number;
  readonly sum: number;
}

/** One scrape. */
export class PrometheusScrape {
  readonly #samples: Sample[] = [];

  constructor(text: string) {
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(m, `not a Prometheus text line: ${line}`);
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ""] = l[2] ?? "";
      this.#samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
    }
  }

  /** The sum of the samples of `name` whose labels include `labels`; 0 when there are none. */
  get(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.#matching(name, labels).reduce((n, s) => n + s.value, 0);
  }

  /** The histogram `name` (without `_bucket`), summed over the series whose labels include `labels`. */
  histogram(name: string, labels: Readonly<Record<string, string>> = {}): HistogramView {
    const byLe = new Map<number, number>();
    for (const s of this.#matching(`${name}_bucket`, labels)) {
      const le = s.labels["le"] === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels["le"]);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    }
    const buckets = [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
    return { buckets, count: this.get(`${name}_count`, labels), sum: this.get(`${name}_sum`, labels) };
  }

  #matching(name: string, labels: Readonly<Record<string, string>>): Sample[] {
    return this.#samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }
}

/** What a histogram observed between two scrapes. */
export function histogramSince(after: HistogramView, before: HistogramView): HistogramView {
  const earlier = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (earlier.get(b.le) ?? 0) })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * The q-quantile (0..1) estimated from the buckets, as histogram_quantile:
 * linear within the bucket that holds the rank, from the bucket below's
 * upper bound (0 for the first); the highest finite bound when the rank is in
 * +Inf. NaN for an empty histogram.
 */
export function histogramQuantile(q: number, h: HistogramView): number {
  const total = h.buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return lower;
      const inBucket = b.count - below;
      return inBucket === 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}
