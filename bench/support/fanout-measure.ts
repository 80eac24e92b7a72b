// Small measuring helpers for the fan-out benchmarks: wall clock comparable
// across processes, settled memory, percentiles.
import { writeFile } from "node:fs/promises";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { Session } from "node:inspector/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

export interface Distribution {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank p50/p99/max (every figure is a measured value), rounded to 0.1 ms. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(at(1)) };
}

/** A full GC when possible, so RSS and heap deltas are not garbage. */
const collect: () => void = (() => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;
  return gc ?? (() => {});
})();

export async function settledMemory(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    collect();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** The in-process V8 profiler, so a profile covers the change only (not start-up or the initial push). */
export async function startCpuProfile(): Promise<{ stopTo(path: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stopTo(path) {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(path, JSON.stringify(profile));
    },
  };
}

/**
 * The longest event-loop block over a phase (issue 15 item 4: no synchronous
 * stretch past ~50 ms), from perf_hooks.monitorEventLoopDelay, and the peak
 * RSS sampled over the same phase (a block delays the samples, never hides
 * the memory: the next sample sees it).
 */
export function phaseMonitor(): { reset(): void; loopMaxMs(): number; gcMaxMs(): number; rssPeakBytes(): number; stop(): void } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  // The longest GC pause: what of a long block is the collector's, not the server's code.
  let gcMax = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMax = Math.max(gcMax, entry.duration);
  });
  gc.observe({ entryTypes: ["gc"] });
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  sampler.unref();
  return {
    reset() {
      histogram.reset();
      gcMax = 0;
      peak = process.memoryUsage.rss();
    },
    // The histogram is in nanoseconds and includes the resolution's own wait.
    loopMaxMs: () => Math.round(histogram.max / 1e5) / 10,
    gcMaxMs: () => Math.round(gcMax * 10) / 10,
    rssPeakBytes: () => Math.max(peak, process.memoryUsage.rss()),
    stop() {
      clearInterval(sampler);
      histogram.disable();
      gc.disconnect();
    },
  };
}
