import { AdsSchedule, defaultWarmingTimeoutMs } from "../protocol/ads-schedule.ts";
import { OrderedPump } from "./ordered-pump.ts";
import type { StreamSession } from "./stream-session.ts";
import type { StreamTransport } from "./stream-transport.ts";

export interface StreamSchedulerOptions {
  readonly session: StreamSession;
  readonly transport: StreamTransport;
  /** How long the warming gate may hold listeners and routes (protocol/ads-schedule.ts). Default 5 s. */
  readonly warmingTimeoutMs?: number | undefined;
  /** Sends the type's response if there is something to say; false when the transport is full. */
  readonly send: (typeUrl: string) => boolean;
}

/**
 * What SotW and Delta streams share to decide and pace their responses: the
 * scheduling policy (protocol/ads-schedule.ts: push order, warming gate,
 * deferred removals, heartbeats), the ordered pump that writes one response at
 * a time and honours back-pressure (go-control-plane #752, #875), and the one
 * timer that opens the warming gate at its deadline. The streams feed
 * `policy` what happened and call `pump()`; `send` only selects, encodes and
 * writes.
 */
export class StreamScheduler {
  readonly policy: AdsSchedule;
  readonly #pumper: OrderedPump;
  readonly #session: StreamSession;
  #timer: NodeJS.Timeout | undefined = undefined;
  /** The deadline #timer was set for. */
  #armed: number | undefined = undefined;

  constructor(options: StreamSchedulerOptions) {
    const session = options.session;
    this.policy = new AdsSchedule({ ads: session.ads, warmingTimeoutMs: options.warmingTimeoutMs ?? defaultWarmingTimeoutMs });
    this.#session = session;
    this.#pumper = new OrderedPump({
      next: () => {
        const typeUrl = this.policy.next();
        // Every send passes here: the gate's deadline is (re)armed once it
        // settles, whatever closed or opened it.
        this.#arm();
        return typeUrl;
      },
      send: options.send,
      closed: () => session.closed,
      onceDrained: (callback) => options.transport.onceDrained(callback),
    });
  }

  /** Sends what is due (a call while a drain runs returns at once: the running drain picks it up). */
  pump(): void {
    if (this.#session.closed) return;
    void this.#pumper.run();
  }

  /** The stream ended: no timer left behind. */
  release(): void {
    this.#disarm();
    this.policy.clear();
  }

  #arm(): void {
    const deadline = this.policy.deadline;
    if (deadline === this.#armed) return;
    this.#disarm();
    if (deadline === undefined) return;
    this.#armed = deadline;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armed = undefined;
      this.policy.tick(Date.now());
      this.pump();
    }, Math.max(0, deadline - Date.now()));
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armed = undefined;
  }
}
