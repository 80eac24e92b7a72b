/** Per stream and type: when the change waiting for the node's ACK was set. */
interface TypeClock {
  /** The earliest change not yet in a response. */
  pending?: number | undefined;
  /** The change the response being built now carries (between responding and responded). */
  building?: number | undefined;
  /** The earliest change sent and not yet ACKed. */
  awaiting?: number | undefined;
}

/**
 * Convergence time, the honest way: from a change being set on the cache to
 * the ACK of a response that carries it (or anything newer), per stream and
 * type. A send is not convergence: Envoy can still reject it (a NACK ends
 * the clock without a figure, the change never converged), or be slow to
 * apply it.
 *
 * "Set on the cache" is when the cache tells the first stream of the key:
 * the cache notifies its streams in batches that yield to the event loop
 * (cache/listener-set.ts), so each stream's own notification would be late
 * by the fan-out; the notification's `typeUrls` set is one object per change,
 * shared by every stream told of it, so the first stream to see it stamps it
 * for all.
 *
 * Only made when the server has a metrics recorder: without one, streams pay
 * nothing but an undefined check.
 */
export class ConvergenceClock {
  readonly #now: () => number;
  readonly #stamps = new WeakMap<object, number>();
  /** The change being fanned out now: nearly every call is about it, so it skips the WeakMap. */
  #last: { change: object; at: number } | undefined = undefined;
  readonly #streams = new Map<number, Map<string, TypeClock>>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * The cache changed these types under a stream's key. `change` is the
   * notification's identity (its typeUrls set); `subscribed` says which
   * types the stream serves: a change to a type it never asked for starts
   * no clock (its first response later is a subscription, not a change).
   */
  changed(streamId: number, typeUrls: Iterable<string>, change: object | undefined, subscribed: ReadonlySet<string>): void {
    const at = change === undefined ? this.#now() : this.#stampOf(change);
    for (const typeUrl of typeUrls) {
      if (!subscribed.has(typeUrl)) continue;
      const clock = this.#clock(streamId, typeUrl);
      clock.pending ??= at;
    }
  }

  /** The stream is about to decide what to send for the type: a pending change goes into that response, or nowhere (nothing to send for this node). */
  responding(streamId: number, typeUrl: string): void {
    const clock = this.#streams.get(streamId)?.get(typeUrl);
    if (clock === undefined) return;
    clock.building = clock.pending;
    clock.pending = undefined;
  }

  /** A response (not a heartbeat) went out while responding: what it carries now awaits the ACK. */
  sent(streamId: number, typeUrl: string): void {
    const clock = this.#streams.get(streamId)?.get(typeUrl);
    if (clock?.building === undefined) return;
    clock.awaiting = Math.min(clock.awaiting ?? clock.building, clock.building);
  }

  /** The stream decided (sent, or found nothing to send). */
  responded(streamId: number, typeUrl: string): void {
    const clock = this.#streams.get(streamId)?.get(typeUrl);
    if (clock !== undefined) clock.building = undefined;
  }

  /** An ACK of the type's latest response: milliseconds since the change it confirms, or undefined when it confirms none. */
  acked(streamId: number, typeUrl: string): number | undefined {
    const clock = this.#streams.get(streamId)?.get(typeUrl);
    if (clock?.awaiting === undefined) return undefined;
    const ms = this.#now() - clock.awaiting;
    clock.awaiting = undefined;
    return ms;
  }

  /** A NACK: what was sent never converged. */
  nacked(streamId: number, typeUrl: string): void {
    const clock = this.#streams.get(streamId)?.get(typeUrl);
    if (clock !== undefined) clock.awaiting = undefined;
  }

  /** The stream ended. */
  closed(streamId: number): void {
    this.#streams.delete(streamId);
  }

  #stampOf(change: object): number {
    if (this.#last?.change === change) return this.#last.at;
    let at = this.#stamps.get(change);
    if (at === undefined) this.#stamps.set(change, (at = this.#now()));
    this.#last = { change, at };
    return at;
  }

  #clock(streamId: number, typeUrl: string): TypeClock {
    let types = this.#streams.get(streamId);
    if (types === undefined) this.#streams.set(streamId, (types = new Map()));
    let clock = types.get(typeUrl);
    if (clock === undefined) types.set(typeUrl, (clock = {}));
    return clock;
  }
}
