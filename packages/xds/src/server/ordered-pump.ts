export interface OrderedPumpOptions {
  /** The next due item in push order, or undefined when nothing is due (or all is held). */
  readonly next: () => string | undefined;
  /** Writes the item's response if any; false when the transport is full. */
  readonly send: (item: string) => boolean;
  readonly closed: () => boolean;
  readonly onceDrained: (callback: () => void) => void;
  /** Told each time a drain ends with nothing more due (admission control: an initial sync that wrote all it had). */
  readonly onIdle?: () => void;
}

/**
 * One stream's ordered write queue: takes the next due item, writes its
 * response, and waits for the transport to drain whenever a write filled it,
 * one response at a time. Never two responses for one stream in flight out of
 * order (go-control-plane #752, #875), and never more buffered than one
 * message past the transport's own buffer.
 */
export class OrderedPump {
  readonly #o: OrderedPumpOptions;
  #running = false;

  constructor(options: OrderedPumpOptions) {
    this.#o = options;
  }

  /**
   * Drains what is due; a call while draining returns at once (the running
   * drain picks new items up). Synchronous up to the first full write, then
   * continued by `onceDrained`'s callback: whoever calls it back (the send
   * slicer, send-slicer.ts) decides when the next step runs.
   */
  run(): void {
    if (this.#running) return;
    this.#running = true;
    this.#step();
  }

  #step(): void {
    try {
      for (let item = this.#o.next(); item !== undefined && !this.#o.closed(); item = this.#o.next()) {
        if (!this.#o.send(item)) {
          this.#o.onceDrained(() => this.#step());
          return;
        }
      }
    } catch (error) {
      this.#running = false;
      throw error;
    }
    this.#running = false;
    if (!this.#o.closed()) this.#o.onIdle?.();
  }
}
