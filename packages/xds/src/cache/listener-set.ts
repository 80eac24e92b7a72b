import { setImmediate as yieldToEventLoop } from "node:timers/promises";

/**
 * Listeners per key, notified in batches that yield to the event loop between
 * them: setting a snapshot for a key watched by thousands of streams must not
 * hold the event loop for the whole fan-out (docs/xds-protocol.md § Cost).
 */
export class ListenerSet<L extends (...args: A) => void, A extends unknown[]> {
  readonly #byKey = new Map<string, Set<L>>();
  readonly #batchSize: number;
  readonly #onError: (error: unknown) => void;

  constructor(options: { batchSize?: number; onError?: (error: unknown) => void } = {}) {
    this.#batchSize = options.batchSize ?? 128;
    this.#onError = options.onError ?? (() => {});
  }

  add(key: string, listener: L): () => void {
    let set = this.#byKey.get(key);
    if (!set) this.#byKey.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      const s = this.#byKey.get(key);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.#byKey.delete(key);
    };
  }

  count(key?: string): number {
    if (key !== undefined) return this.#byKey.get(key)?.size ?? 0;
    let n = 0;
    for (const s of this.#byKey.values()) n += s.size;
    return n;
  }

  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  /** Calls every listener of the key; resolves when all were called. */
  async notify(key: string, ...args: A): Promise<void> {
    const set = this.#byKey.get(key);
    if (!set) return;
    let n = 0;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        this.#onError(error);
      }
      if (++n % this.#batchSize === 0) await yieldToEventLoop();
    }
  }
}
