/** Where a stream stands in admission control (NodeStatus.initialSync). */
export type InitialSyncState = "queued" | "syncing";

/** Options of {@link AdmissionQueue} (XdsServerOptions.maxInitialSyncs, initialSyncTimeoutMs). */
export interface AdmissionQueueOptions {
  /** Streams doing their initial sync at once; 0 admits every stream at once (no admission control). */
  readonly maxInitialSyncs: number;
  /** A stream whose first responses are not answered within this long leaves the syncing set anyway. */
  readonly initialSyncTimeoutMs: number;
}

/** What one stream tells admission control, and how it is resumed when admitted. */
export interface AdmissionTicketOptions {
  /** A stream's queue state changed (undefined: its initial sync is over); status shows it per node. */
  readonly onState?: (state: InitialSyncState | undefined) => void;
}

/** Server-level admission figures (XdsServer.metrics). */
export interface AdmissionFigures {
  /** Streams doing their initial sync now (at most maxInitialSyncs). */
  readonly syncingStreams: number;
  /** Streams waiting for their turn to sync. */
  readonly queuedStreams: number;
  /** Initial syncs that left the syncing set by initialSyncTimeoutMs rather than by an answer. */
  readonly initialSyncTimeouts: number;
}

/**
 * Admission control of initial syncs (issue 15 item 2): a reconnect storm
 * (every proxy of a fleet after a restart or failover: istio #35263,
 * java-control-plane #300) would otherwise have every stream build and buffer
 * its whole first state at once. At most `maxInitialSyncs` streams sync at
 * once; the others wait in a FIFO queue, first come first served, so nobody
 * starves. A stream leaves the syncing set when every response it was sent
 * has been answered (ACK or NACK), when it closes, or after
 * `initialSyncTimeoutMs`. With no storm the queue is empty and a stream is
 * admitted on its first request, without waiting.
 */
export class AdmissionQueue {
  readonly #o: AdmissionQueueOptions;
  readonly #syncing = new Set<AdmissionTicket>();
  /** Insertion order is arrival order: the first entry is served first. */
  readonly #queue = new Set<AdmissionTicket>();
  #timeouts = 0;

  constructor(options: AdmissionQueueOptions) {
    this.#o = options;
  }

  /** A ticket for a new stream; it queues on its first {@link AdmissionTicket.ready}. */
  ticket(options: AdmissionTicketOptions = {}): AdmissionTicket {
    return new AdmissionTicket(this, options);
  }

  /** Syncing, queued and timed-out counts. */
  get figures(): AdmissionFigures {
    return { syncingStreams: this.#syncing.size, queuedStreams: this.#queue.size, initialSyncTimeouts: this.#timeouts };
  }

  /** @internal A ticket asks for its turn: true when admitted now. */
  arrive(t: AdmissionTicket): boolean {
    const max = this.#o.maxInitialSyncs;
    if (max === 0 || (this.#queue.size === 0 && this.#syncing.size < max)) {
      this.#admit(t);
      return true;
    }
    this.#queue.add(t);
    return false;
  }

  /** @internal A ticket's initial sync is over (or its stream closed): the next in line goes. */
  leave(t: AdmissionTicket, timedOut: boolean): void {
    if (timedOut) this.#timeouts++;
    this.#queue.delete(t);
    if (!this.#syncing.delete(t)) return;
    const max = this.#o.maxInitialSyncs;
    for (const next of this.#queue) {
      if (this.#syncing.size >= max) break;
      this.#queue.delete(next);
      this.#admit(next);
    }
  }

  #admit(t: AdmissionTicket): void {
    if (this.#o.maxInitialSyncs > 0) this.#syncing.add(t);
    t.admitted(this.#o.maxInitialSyncs > 0 ? this.#o.initialSyncTimeoutMs : undefined);
  }
}

/**
 * One stream's place in admission control. The stream asks {@link ready}
 * before it writes anything; it reports what it sends and what the client
 * answers, and {@link release} when it ends.
 */
export class AdmissionTicket {
  readonly #queue: AdmissionQueue;
  readonly #o: AdmissionTicketOptions;
  #phase: "new" | "queued" | "syncing" | "done" = "new";
  #resume: (() => void) | undefined = undefined;
  /** Types with a response sent and not answered yet, while syncing. */
  readonly #outstanding = new Set<string>();
  #sent = false;
  #timer: NodeJS.Timeout | undefined = undefined;

  /** @internal Made by {@link AdmissionQueue.ticket}. */
  constructor(queue: AdmissionQueue, options: AdmissionTicketOptions) {
    this.#queue = queue;
    this.#o = options;
  }

  /** The stream is syncing (not queued, not done): its answers count. */
  get syncing(): boolean {
    return this.#phase === "syncing";
  }

  /**
   * Whether the stream may write now. The first call joins the queue; false
   * means wait: `resume` is called once the stream is admitted.
   */
  ready(resume: () => void): boolean {
    if (this.#phase === "syncing" || this.#phase === "done") return true;
    this.#resume = resume;
    if (this.#phase === "queued") return false;
    if (this.#queue.arrive(this)) return true;
    this.#phase = "queued";
    this.#o.onState?.("queued");
    return false;
  }

  /** A response of this type was written (heartbeats excluded). */
  sent(typeUrl: string): void {
    if (this.#phase !== "syncing") return;
    this.#sent = true;
    this.#outstanding.add(typeUrl);
  }

  /** The client ACKed or NACKed the type's latest response: once nothing sent is unanswered, the initial sync is over. */
  answered(typeUrl: string): void {
    if (this.#phase !== "syncing") return;
    this.#outstanding.delete(typeUrl);
    if (this.#sent && this.#outstanding.size === 0) this.#finish(false);
  }

  /**
   * The stream wrote all that was due. If it sent nothing (the cache has
   * nothing for its node yet) it gives its slot back and queues again on its
   * next write, so streams waiting for a snapshot never hold slots; if all it
   * sent was answered, its initial sync is over.
   */
  idle(): void {
    if (this.#phase !== "syncing") return;
    if (this.#sent) {
      if (this.#outstanding.size === 0) this.#finish(false);
      return;
    }
    this.#phase = "new";
    clearTimeout(this.#timer);
    this.#o.onState?.(undefined);
    this.#queue.leave(this, false);
  }

  /** The stream ended: its slot (or its place in the queue) goes to the next. */
  release(): void {
    if (this.#phase === "done") return;
    const waiting = this.#phase === "queued" || this.#phase === "syncing";
    this.#phase = "done";
    // The node may have other streams: its status must not stay "queued" for this one.
    if (waiting) this.#o.onState?.(undefined);
    clearTimeout(this.#timer);
    this.#resume = undefined;
    this.#queue.leave(this, false);
  }

  /** @internal Admitted by the queue; `timeoutMs` undefined when nothing is counted. */
  admitted(timeoutMs: number | undefined): void {
    const wasQueued = this.#phase === "queued";
    if (timeoutMs === undefined) {
      this.#phase = "done";
    } else {
      this.#phase = "syncing";
      this.#o.onState?.("syncing");
      this.#timer = setTimeout(() => this.#finish(true), timeoutMs);
      this.#timer.unref();
    }
    const resume = this.#resume;
    this.#resume = undefined;
    // Not from inside the stream whose answer freed the slot: the admitted one
    // writes on a turn of its own.
    if (wasQueued && resume) queueMicrotask(resume);
  }

  #finish(timedOut: boolean): void {
    if (this.#phase !== "syncing") return;
    this.#phase = "done";
    clearTimeout(this.#timer);
    this.#outstanding.clear();
    this.#o.onState?.(undefined);
    this.#queue.leave(this, timedOut);
  }
}
