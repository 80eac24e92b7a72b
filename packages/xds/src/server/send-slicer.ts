export interface SendSlicerOptions {
  /** How long one synchronous slice of sends may run before the slicer yields to the event loop. Default 15 ms. */
  readonly sliceMs?: number;
  /**
   * How many streams may wait for their transport to drain (a large response
   * in flight each) before the slicer starts no new sends. Default 128.
   */
  readonly maxDraining?: number;
  /** A stream waiting for a drain longer than this stops counting against `maxDraining` (a client that stopped reading). Default 2 s. */
  readonly stallMs?: number;
  /** The clock, in milliseconds. Default performance.now. */
  readonly now?: () => number;
}

/** Counters for tests and benchmarks. */
export interface SendSlicerMetrics {
  /** Slices run from the queue, each after yielding to the event loop. */
  slices: number;
  /** Sends that waited in the queue instead of running at once. */
  deferred: number;
}

/**
 * Where every stream's sends start (issue 15 item 4: never block the event
 * loop). A send runs at once while the current synchronous stretch is
 * younger than `sliceMs`; past that, sends queue in arrival order (first come
 * first served: no stream starves) and run in slices of `sliceMs` with a
 * yield (setImmediate) in between, so handshakes, ACKs, health checks and the
 * admin API are served while 1,000 streams get their initial responses or a
 * fan-out. Each stream's own order is untouched: the slicer only decides when
 * a stream's ordered pump (ordered-pump.ts) takes its next step, never what
 * it sends (protocol/ads-schedule.ts).
 *
 * It also bounds what is in flight: while `maxDraining` streams wait for a
 * drain (each holding a response in the transport's buffers), new sends wait
 * too, so an initial sync of 1,000 streams × 1.4 MB holds tens of responses
 * in memory, not a thousand (RSS per stream during the sync).
 */
export class SendSlicer {
  readonly metrics: SendSlicerMetrics = { slices: 0, deferred: 0 };
  readonly #sliceMs: number;
  readonly #maxDraining: number;
  readonly #stallMs: number;
  readonly #now: () => number;
  /** Sends, keyed by whoever asked (a stream, or its resume): asking again while queued keeps the place. */
  readonly #queue = new Map<object, () => void>();
  /** Requests to handle: never held by the drain gate (ACKs must flow while responses are in flight), run before sends. */
  readonly #requests = new Map<object, () => void>();
  /** Streams waiting for a drain, and since when. */
  readonly #draining = new Map<object, number>();
  #sliceStart: number | undefined = undefined;
  #scheduled = false;
  #stallTimer: NodeJS.Timeout | undefined = undefined;

  constructor(options: SendSlicerOptions = {}) {
    this.#sliceMs = options.sliceMs ?? 15;
    this.#maxDraining = options.maxDraining ?? 128;
    this.#stallMs = options.stallMs ?? 2000;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Runs `task` now if the slice allows, else queues it (once per key) for a
   * later slice. `gated: false` (requests) ignores the drain gate.
   */
  run(key: object, task: () => void, options: { gated?: boolean } = {}): void {
    const gated = options.gated !== false;
    const queue = gated ? this.#queue : this.#requests;
    if (queue.size === 0 && (!gated || this.#open()) && this.#inSlice()) {
      task();
      return;
    }
    if (!queue.has(key)) {
      queue.set(key, task);
      this.metrics.deferred++;
    }
    this.#schedule();
  }

  /**
   * `key` waits for its transport to drain: counted against `maxDraining`
   * until `onceDrained` calls back; then `resume` runs through the slicer.
   */
  awaitDrain(key: object, onceDrained: (callback: () => void) => void, resume: () => void): void {
    this.#draining.set(key, this.#now());
    onceDrained(() => {
      this.#draining.delete(key);
      this.run(key, resume);
      this.#schedule();
    });
  }

  /** A stream ended: it no longer counts as draining (its transport may never call back). */
  forget(key: object): void {
    this.#draining.delete(key);
    this.#schedule();
  }

  /** Whether a new send may start: fewer than `maxDraining` streams (not stalled) wait for a drain. */
  #open(): boolean {
    if (this.#draining.size < this.#maxDraining) return true;
    const since = this.#now() - this.#stallMs;
    let live = 0;
    for (const at of this.#draining.values()) if (at > since && ++live >= this.#maxDraining) return false;
    return true;
  }

  /** Whether the current synchronous stretch may take more sends; starts one when none runs. */
  #inSlice(): boolean {
    const now = this.#now();
    if (this.#sliceStart === undefined) {
      this.#sliceStart = now;
      // The stretch ends when the event loop next turns.
      setImmediate(() => {
        this.#sliceStart = undefined;
      });
      return true;
    }
    return now - this.#sliceStart < this.#sliceMs;
  }

  #schedule(): void {
    if (this.#scheduled || (this.#queue.size === 0 && this.#requests.size === 0)) return;
    if (this.#requests.size === 0 && !this.#open()) {
      // A drain calls #schedule; a stalled stream stops counting at stallMs.
      if (this.#stallTimer === undefined) {
        this.#stallTimer = setTimeout(() => {
          this.#stallTimer = undefined;
          this.#schedule();
        }, this.#stallMs);
        this.#stallTimer.unref();
      }
      return;
    }
    this.#scheduled = true;
    setImmediate(() => this.#slice());
  }

  #slice(): void {
    this.#scheduled = false;
    this.metrics.slices++;
    const start = this.#now();
    this.#sliceStart = start;
    try {
      for (const [key, task] of this.#requests) {
        if (this.#now() - start >= this.#sliceMs) break;
        this.#requests.delete(key);
        task();
      }
      for (const [key, task] of this.#queue) {
        if (this.#now() - start >= this.#sliceMs || !this.#open()) break;
        this.#queue.delete(key);
        task();
      }
    } finally {
      this.#sliceStart = undefined;
      this.#schedule();
    }
  }
}

/** The one slicer of the process: one event loop, so streams of every server share its slices. */
export const processSendSlicer: SendSlicer = new SendSlicer();
