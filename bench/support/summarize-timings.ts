/** Median, 95th percentile and extremes of a set of timings, in ms rounded to 0.01. */
export interface Timings {
  readonly runs: number;
  readonly minMs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/**
 * Nearest-rank percentiles (the smallest sample with at least q of the samples at or
 * below it): no interpolation, so every figure printed is a time that was measured.
 * With fewer than 20 samples p95 is the maximum; the run count is printed beside it.
 */
export function summarizeTimings(samplesMs: readonly number[]): Timings {
  if (samplesMs.length === 0) throw new Error("summarizeTimings: no samples");
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  const round = (n: number): number => Math.round(n * 100) / 100;
  return {
    runs: sorted.length,
    minMs: round(sorted[0] ?? Number.NaN),
    medianMs: round(rank(0.5)),
    p95Ms: round(rank(0.95)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
  };
}
