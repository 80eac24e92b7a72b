import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

/** Default pace of shedding (XdsServerOptions.shedStreamsPerSecond): streams ended per second while over the cap. */
export const defaultShedStreamsPerSecond = 10;

/** A stream the cap can end: the oldest first. */
export interface SheddableStream {
  /** Ends the stream with a gRPC status. */
  shed(details: string): void;
}

/** Options of {@link StreamCap}. */
export interface StreamCapOptions<S extends SheddableStream> {
  /** The most streams served at once; undefined: no cap. */
  readonly maxStreams?: number | undefined;
  /** While over the cap, at most this many streams are ended per second (a few at a time, so they do not all come back at once). */
  readonly shedStreamsPerSecond?: number;
  /** The open streams, oldest first. */
  readonly open: () => Iterable<S>;
  /** How many streams are open. */
  readonly count: () => number;
}

/** Server-level stream cap figures (XdsServer.metrics). */
export interface StreamCapFigures {
  /** The cap now; undefined when there is none. */
  readonly maxStreams: number | undefined;
  /** Streams ended to come back under the cap. */
  readonly streamsShed: number;
  /** New streams refused because the server was at its cap. */
  readonly streamsRefused: number;
}

/**
 * A stream cap with graceful shedding (issue 10 item 6). After a failover
 * the surviving replicas hold every proxy, and nothing moves them back when
 * the dead one returns (istio #11181): a replica given a cap (at start or by
 * `setMaxStreams` at runtime) refuses new streams over it, and ends its
 * excess, the oldest streams first and a few per second, with UNAVAILABLE,
 * which Envoy treats as retryable: it reconnects, to another replica when
 * its xDS cluster lists several.
 */
export class StreamCap<S extends SheddableStream> {
  readonly #o: StreamCapOptions<S>;
  readonly #perSecond: number;
  #max: number | undefined;
  #shed = 0;
  #refused = 0;
  #timer: NodeJS.Timeout | undefined = undefined;

  /** @throws XdsError `invalid_argument` for a cap or pace out of range. */
  constructor(options: StreamCapOptions<S>) {
    this.#o = options;
    const pace = options.shedStreamsPerSecond ?? defaultShedStreamsPerSecond;
    if (!(Number.isInteger(pace) && pace >= 1)) throw new XdsError(XdsErrorCode.InvalidArgument, `shedStreamsPerSecond must be an integer >= 1, not ${pace}`);
    this.#perSecond = pace;
    this.#max = checkMaxStreams(options.maxStreams);
  }

  /** Cap and counts. */
  get figures(): StreamCapFigures {
    return { maxStreams: this.#max, streamsShed: this.#shed, streamsRefused: this.#refused };
  }

  /**
   * Whether a new stream may be served; a refusal is counted, and the reason
   * returned for its UNAVAILABLE status. Called before the stream is added.
   */
  refusal(): string | undefined {
    const max = this.#max;
    if (max === undefined || this.#o.count() < max) return undefined;
    this.#refused++;
    return `this control plane replica is at its stream cap (${max}) and refuses new streams: retry, on another replica if there is one`;
  }

  /** Changes the cap; over it, shedding starts at once. undefined removes the cap. */
  setMaxStreams(max: number | undefined): void {
    this.#max = checkMaxStreams(max);
    this.#schedule();
  }

  /** Stops shedding (the server closes). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    if (this.#max === undefined || this.#o.count() <= this.#max) return;
    // One stream per tick, at most `perSecond` ticks a second (ticks of at
    // least 10 ms: a faster pace ends several per tick).
    const tickMs = Math.max(10, Math.floor(1000 / this.#perSecond));
    const perTick = Math.max(1, Math.round((this.#perSecond * tickMs) / 1000));
    const tick = (): void => {
      this.#timer = undefined;
      const max = this.#max;
      if (max === undefined) return;
      let excess = Math.min(perTick, this.#o.count() - max);
      if (excess <= 0) return;
      const victims: S[] = [];
      for (const s of this.#o.open()) {
        if (excess-- <= 0) break;
        victims.push(s);
      }
      for (const s of victims) {
        this.#shed++;
        s.shed(`this control plane replica is shedding load (over its stream cap of ${max}): reconnect, to another replica if there is one`);
      }
      this.#schedule();
    };
    this.#timer = setTimeout(tick, tickMs);
    this.#timer.unref();
  }
}

function checkMaxStreams(max: number | undefined): number | undefined {
  if (max !== undefined && !(Number.isInteger(max) && max >= 0)) throw new XdsError(XdsErrorCode.InvalidArgument, `maxStreams must be an integer >= 0, not ${max}`);
  return max;
}
