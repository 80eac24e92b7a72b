import type { StreamError, StreamTransport } from "./stream-transport.ts";

/**
 * Default per-stream write budget (XdsServerOptions.maxBufferedBytes): 256 KiB. It is also the
 * stream's pacing: a write says "wait" past it, where grpc-js alone counts 16 messages, so 1,000
 * streams of an initial sync each held a framed 1.4 MB response (issue 15: RSS per stream during
 * a sync); one message may cross it, so the largest response still goes out whole.
 */
export const defaultMaxBufferedBytes = 256 * 1024;
/** Default time a stream may stay over its write budget before it is ended (XdsServerOptions.stuckStreamTimeoutMs). */
export const defaultStuckStreamTimeoutMs = 60_000;

/** What a write budget needs of the gRPC call: a write with a completion callback, and drain. */
export interface BudgetedCall {
  /** Writes one message; `done` runs once the HTTP/2 stream took it off its buffer (sent, or failed). */
  write(message: Buffer, done: () => void): boolean;
  /** Calls back once when the call's own buffer can take more. */
  onceDrained(callback: () => void): void;
  /** Ends the call: OK without an error, else with the error's status. */
  end(error?: StreamError): void;
}

/** Server-level buffer figures, shared by every stream's budget (XdsServer.metrics). */
export class BufferTotals {
  /** Bytes written to streams and not yet taken by HTTP/2 (queued towards slow or stuck clients). */
  bufferedBytes = 0;
  /** Streams over their write budget now. */
  streamsOverBudget = 0;
  /** Streams ended with RESOURCE_EXHAUSTED for staying over budget past stuckStreamTimeoutMs. */
  stuckStreamsEnded = 0;
}

/** Options of {@link WriteBudget}. */
export interface WriteBudgetOptions {
  readonly call: BudgetedCall;
  /** The budget; writes stop once more than this is buffered (one message may cross it). */
  readonly maxBufferedBytes: number;
  /** Over budget this long: `onStuck` runs (0 or undefined: never). */
  readonly stuckStreamTimeoutMs?: number;
  readonly totals: BufferTotals;
  /** The stream stayed over budget too long; the caller ends it (RESOURCE_EXHAUSTED). */
  readonly onStuck: (details: string) => void;
}

/**
 * A stream's transport with a bounded write buffer (issue 15 item 3). It
 * counts the bytes written and not yet taken by the HTTP/2 stream (the
 * write's completion), and says "full" once they pass `maxBufferedBytes`,
 * as it does when the call itself is full. The ordered pump then waits for
 * the drain and, when it comes, selects what is due from the cache as it is
 * then: a client that stops reading gets the latest state when it reads
 * again, and versions superseded meanwhile are never queued. Memory per
 * stuck stream stays at the budget plus one response; past
 * `stuckStreamTimeoutMs` over budget, the stream is given up.
 */
export class WriteBudget implements StreamTransport {
  readonly #o: WriteBudgetOptions;
  #buffered = 0;
  #callFull = false;
  #over = false;
  #ended = false;
  #waiters: Array<() => void> = [];
  #stuckTimer: NodeJS.Timeout | undefined = undefined;

  constructor(options: WriteBudgetOptions) {
    this.#o = options;
  }

  /** Bytes this stream has buffered now. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  write(message: Buffer): boolean {
    if (this.#ended) return true;
    const size = message.length;
    this.#buffered += size;
    this.#o.totals.bufferedBytes += size;
    const ok = this.#o.call.write(message, () => this.#taken(size));
    if (!ok && !this.#callFull) {
      this.#callFull = true;
      this.#o.call.onceDrained(() => {
        this.#callFull = false;
        this.#maybeDrained();
      });
    }
    if (this.#buffered > this.#o.maxBufferedBytes) this.#goOver();
    return ok && !this.#over;
  }

  onceDrained(callback: () => void): void {
    if (this.#ended || (!this.#callFull && !this.#over)) {
      queueMicrotask(callback);
      return;
    }
    this.#waiters.push(callback);
  }

  end(error?: StreamError): void {
    this.#release();
    this.#o.call.end(error);
  }

  /** The stream is gone (ended either side): its buffered bytes leave the totals, even those HTTP/2 will never confirm. */
  released(): void {
    this.#release();
  }

  #release(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#o.totals.bufferedBytes -= this.#buffered;
    this.#buffered = 0;
    this.#underBudget();
    // A pump waiting on a stream that ended must not hang: it sees `closed` and stops.
    for (const w of this.#waiters.splice(0)) w();
  }

  #taken(size: number): void {
    if (this.#ended) return;
    this.#buffered -= size;
    this.#o.totals.bufferedBytes -= size;
    if (this.#over && this.#buffered <= this.#o.maxBufferedBytes) this.#underBudget();
    this.#maybeDrained();
  }

  #goOver(): void {
    if (this.#over) return;
    this.#over = true;
    this.#o.totals.streamsOverBudget++;
    const after = this.#o.stuckStreamTimeoutMs ?? 0;
    if (after <= 0) return;
    this.#stuckTimer = setTimeout(() => {
      this.#stuckTimer = undefined;
      if (!this.#over || this.#ended) return;
      this.#o.totals.stuckStreamsEnded++;
      this.#o.onStuck(
        `the client stayed over maxBufferedBytes ${this.#o.maxBufferedBytes} for ${after} ms (${this.#buffered} bytes written and not read): ended so that it holds no more memory; reconnect and read`,
      );
    }, after);
    this.#stuckTimer.unref();
  }

  #underBudget(): void {
    if (!this.#over) return;
    this.#over = false;
    this.#o.totals.streamsOverBudget--;
    clearTimeout(this.#stuckTimer);
    this.#stuckTimer = undefined;
  }

  #maybeDrained(): void {
    if (this.#callFull || this.#over || this.#waiters.length === 0) return;
    for (const w of this.#waiters.splice(0)) w();
  }
}
