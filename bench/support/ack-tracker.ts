import type { AckEvent } from "@ts-control-plane/xds";

/**
 * Records, per (type, version), when each stream first ACKed it, from the
 * server's onAck hook, and lets the benchmark wait until N streams have.
 */
export class AckTracker {
  readonly #acks = new Map<string, Map<number, number>>();
  readonly #waiters = new Set<() => void>();
  readonly #now: () => number;

  constructor(options: { now: () => number }) {
    this.#now = options.now;
  }

  /** Feed from XdsHooks.onAck. */
  onAck(event: AckEvent): void {
    const key = `${event.typeUrl}\u0000${event.version}`;
    let streams = this.#acks.get(key);
    if (!streams) this.#acks.set(key, (streams = new Map()));
    if (streams.has(event.streamId)) return;
    streams.set(event.streamId, this.#now());
    for (const w of [...this.#waiters]) w();
  }

  /** ACK times (from `now`) of every stream that ACKed the version so far. */
  times(typeUrl: string, version: string): number[] {
    return [...(this.#acks.get(`${typeUrl}\u0000${version}`)?.values() ?? [])];
  }

  /** Resolves with the ACK times once `count` streams ACKed the version; rejects after timeoutMs. */
  waitFor(options: { typeUrl: string; version: string; count: number; timeoutMs: number }): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const times = this.times(options.typeUrl, options.version);
        if (times.length < options.count) return false;
        cleanup();
        resolve(times);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        const got = this.times(options.typeUrl, options.version).length;
        reject(new Error(`only ${got} of ${options.count} streams ACKed ${options.typeUrl} ${options.version} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter = (): void => {
        check();
      };
      if (!check()) this.#waiters.add(waiter);
    });
  }
}
