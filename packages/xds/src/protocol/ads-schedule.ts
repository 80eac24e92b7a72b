import type { EncodedResource } from "../resource/encoded-resource.ts";
import { pushOrder, resourceType } from "../resource/resource-types.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

export interface AdsScheduleOptions {
  /** One stream carries every type (ADS): push order, the warming gate and deferred removals apply. A per-type stream has none of them. */
  readonly ads: boolean;
  /** How long the warming gate may stay closed before it opens by itself (see AdsSchedule). */
  readonly warmingTimeoutMs: number;
}

/** Default of AdsScheduleOptions.warmingTimeoutMs (and of the server's `warmingTimeoutMs`). */
export const defaultWarmingTimeoutMs = 5000;

/**
 * Which type one xDS stream sends next, and what it holds back: the ordering
 * rules of docs/xds-protocol.md § Ordering for both SotW and Delta, as a state
 * machine without I/O or timers (time comes in as `now`; the stream owns the
 * one timer that calls `tick` at `deadline`). The stream tells it what
 * happened (a type is due, a response went out carrying what, a NACK, a
 * heartbeat) and asks `next()`; it never writes anything itself.
 *
 * Rules, on ADS (a per-type stream carries one type: it answers what is due,
 * and is never gated nor defers removals):
 * - Push order: of the types due, the lowest `pushOrder` goes first: CDS, EDS,
 *   LDS, RDS, then the rest. One type at a time; the stream's pump sends one
 *   response per `next()` and waits for the transport to drain, so two
 *   responses never race (go-control-plane #752, #875).
 * - Warming gate (make before break for new clusters): Envoy warms a new EDS
 *   cluster until its endpoints arrive, but does not warm routes, so a route
 *   reaching Envoy before its cluster's endpoints answers 503
 *   (go-control-plane #526, #705, #800). After a CDS response, the gate closes
 *   on the EDS names the clusters just sent reference that the client does not
 *   hold at the cache's current version (`endpointsToAwait`); while it is
 *   closed, LDS, RDS and every later type wait. It opens when
 *   - every awaited name went out in an EDS response (or was reported removed).
 *     Envoy asks for the endpoints of new clusters *before* it ACKs the CDS
 *     response, so the ACK is the wrong signal: it says nothing about whether
 *     the endpoints went out, and waiting for it holds routes a round trip
 *     longer than needed (SotW streams used to wait for it, Delta streams for
 *     the endpoints; this is the one rule for both);
 *   - the CDS response is NACKed: rejected clusters never ask for endpoints;
 *   - `warmingTimeoutMs` passes: a client that never asks must not hold its
 *     listeners forever.
 *   A client that takes no EDS on the stream awaits nothing and is never held
 *   (at startup Envoy asks for listeners only once its clusters are warm
 *   anyway). The same computation serves both variants: what the client holds
 *   is, in Delta, the versions it acknowledged or was sent, and in SotW, the
 *   last EDS response sent.
 * - Deferred removals: a type's removals of resources the client holds go out
 *   only after the later types were sent (listeners and routes move away from
 *   a cluster before it goes), so while a later type is due or the gate is
 *   closed, the stream keeps them (`holdRemovals`) and says so (`heldRemovals`).
 *   Once nothing else is due and the gate is open, the held types are due again
 *   in push order, and that pass removes without deferring again.
 * - Heartbeats: a heartbeat makes its types due like any change, so it goes in
 *   push order behind what is queued, never beside the pump (#752, #875).
 */
export class AdsSchedule {
  readonly #ads: boolean;
  readonly #timeoutMs: number;
  /** Types the client subscribed to on this stream. */
  readonly #known = new Set<string>();
  readonly #due = new Set<string>();
  readonly #heartbeatDue = new Set<string>();
  /** Types whose removals wait until the types after them were sent. */
  readonly #deferred = new Set<string>();
  /** Deferred types made due again: their removals go out without another deferral. */
  readonly #released = new Set<string>();
  /** The type `next()` returned last was a released one. */
  #releasing = false;
  /** EDS names the warming gate waits for; closed while not empty. */
  readonly #awaiting = new Set<string>();
  /**
   * Awaited names kept as the shared list endpointsToAwait returned, while the
   * stream awaits exactly a list (the usual case): 1,000 streams then hold one
   * list instead of copying 10,000 names each into their own set (issue 15 item 1).
   */
  #awaitingList: readonly string[] | undefined = undefined;
  #deadline: number | undefined = undefined;

  constructor(options: AdsScheduleOptions) {
    if (!(Number.isFinite(options.warmingTimeoutMs) && options.warmingTimeoutMs >= 0)) {
      throw new XdsError(XdsErrorCode.InvalidArgument, `warmingTimeoutMs must be a finite number >= 0, not ${options.warmingTimeoutMs}`);
    }
    this.#ads = options.ads;
    this.#timeoutMs = options.warmingTimeoutMs;
  }

  /** Whether the warming gate holds LDS, RDS and later types back. */
  get gateClosed(): boolean {
    return this.#awaiting.size > 0 || this.#awaitingList !== undefined;
  }

  /** When the closed gate opens by itself (feed `tick` then); undefined while it is open. */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /** The client asked for the type (subscribed, ACKed, NACKed, changed its names): look at it again. */
  requested(typeUrl: string): void {
    this.#known.add(typeUrl);
    this.#due.add(typeUrl);
  }

  /** The cache changed these types: those the client subscribed to are due. */
  changed(typeUrls: Iterable<string>): void {
    for (const t of typeUrls) if (this.#known.has(t)) this.#due.add(t);
  }

  /** The stream reads from another cache key: every subscribed type is due. */
  rekeyed(): void {
    for (const t of this.#known) this.#due.add(t);
  }

  /** A heartbeat is due for these types (those whose resources carry a TTL): on their next turn, in push order. */
  heartbeat(typeUrls: Iterable<string>): void {
    for (const t of typeUrls) {
      if (!this.#known.has(t)) continue;
      this.#heartbeatDue.add(t);
      this.#due.add(t);
    }
  }

  /** The types the client subscribed to on this stream. */
  get subscribed(): ReadonlySet<string> {
    return this.#known;
  }

  /** Whether anything is due, held types included. */
  get pending(): boolean {
    return this.#due.size > 0 || this.#deferred.size > 0;
  }

  /**
   * The type to respond for now, or undefined when nothing may go (nothing
   * due, or all that is due waits behind the gate). Taking it makes it no
   * longer due; the stream then sends what the type has to say, if anything.
   */
  next(): string | undefined {
    // Deferred removals wait for everything else, held types included.
    if (this.#due.size === 0 && !this.gateClosed && this.#deferred.size > 0) {
      for (const t of this.#deferred) {
        this.#due.add(t);
        this.#released.add(t);
      }
      this.#deferred.clear();
    }
    let best: string | undefined;
    let bestOrder = 0;
    for (const t of this.#due) {
      if (this.#gated(t)) continue;
      const order = pushOrder(t);
      if (best === undefined || order < bestOrder) {
        best = t;
        bestOrder = order;
      }
    }
    if (best === undefined) return undefined;
    this.#due.delete(best);
    this.#releasing = this.#released.delete(best);
    return best;
  }

  /** Whether a heartbeat is due for the type; asking consumes it. */
  takeHeartbeat(typeUrl: string): boolean {
    return this.#heartbeatDue.delete(typeUrl);
  }

  /**
   * Whether the type being sent must keep the resources it would remove that
   * the client holds (ADS make before break): yes while a later type is due
   * (held ones included) or the gate is closed, unless this is the pass that
   * releases them.
   */
  holdRemovals(typeUrl: string): boolean {
    if (!this.#ads || this.#releasing) return false;
    if (this.gateClosed) return true;
    const order = pushOrder(typeUrl);
    for (const t of this.#due) if (pushOrder(t) > order) return true;
    return false;
  }

  /** The stream kept removals of the type back: it is due again once nothing else is. */
  heldRemovals(typeUrl: string): void {
    this.#deferred.add(typeUrl);
  }

  /**
   * A CDS response went out; `awaited` are the EDS names to wait for
   * (`endpointsToAwait`; empty for a client that takes no EDS on the stream).
   * Closes the gate on ADS; a gate already closed keeps its deadline.
   */
  clustersSent(awaited: Iterable<string>, now: number): void {
    if (!this.#ads) return;
    if (Array.isArray(awaited) && this.#awaiting.size === 0 && this.#awaitingList === undefined) {
      if (awaited.length > 0) this.#awaitingList = awaited;
    } else {
      this.#materialize();
      for (const name of awaited) this.#awaiting.add(name);
    }
    if (this.gateClosed && this.#deadline === undefined) this.#deadline = now + this.#timeoutMs;
  }

  /** An EDS response went out carrying these names, or reporting them removed. */
  endpointsSent(names: Iterable<string>): void {
    if (!this.gateClosed) return;
    if (this.#awaitingList !== undefined && Array.isArray(names)) {
      const left = remainingAfter(this.#awaitingList, names);
      this.#awaitingList = left.length > 0 ? left : undefined;
    } else {
      this.#materialize();
      for (const name of names) this.#awaiting.delete(name);
    }
    if (!this.gateClosed) this.#open();
  }

  /** The client NACKed the type's latest response. */
  nacked(typeUrl: string): void {
    // Rejected clusters will not ask for endpoints: stop holding routes for them.
    if (typeUrl === TypeUrl.Cluster) this.#open();
  }

  /** Time passed: at the deadline the gate opens. */
  tick(now: number): void {
    if (this.#deadline !== undefined && now >= this.#deadline) this.#open();
  }

  /** The stream ended: forget everything. */
  clear(): void {
    this.#known.clear();
    this.#due.clear();
    this.#heartbeatDue.clear();
    this.#deferred.clear();
    this.#released.clear();
    this.#releasing = false;
    this.#open();
  }

  /** The shared list becomes the stream's own set, to be changed. */
  #materialize(): void {
    if (this.#awaitingList === undefined) return;
    for (const name of this.#awaitingList) this.#awaiting.add(name);
    this.#awaitingList = undefined;
  }

  #gated(typeUrl: string): boolean {
    return this.#ads && this.gateClosed && pushOrder(typeUrl) > pushOrder(TypeUrl.Endpoint);
  }

  #open(): void {
    this.#awaiting.clear();
    this.#awaitingList = undefined;
    this.#deadline = undefined;
  }
}

/** What is left of an awaited list once some names were sent, per (shared) pair of lists: computed once for the streams of a sync. */
const remainingMemo = new WeakMap<readonly string[], WeakMap<readonly string[], readonly string[]>>();
const sentSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function remainingAfter(awaited: readonly string[], sent: readonly string[]): readonly string[] {
  let bySent = remainingMemo.get(awaited);
  if (!bySent) remainingMemo.set(awaited, (bySent = new WeakMap()));
  let left = bySent.get(sent);
  if (!left) {
    let set = sentSets.get(sent);
    if (!set) sentSets.set(sent, (set = new Set(sent)));
    const s = set;
    left = awaited.filter((name) => !s.has(name));
    bySent.set(sent, left);
  }
  return left;
}

/** EDS names the clusters of one list reference, once per (immutable, usually shared) list. */
const referenced = new WeakMap<readonly EncodedResource[], readonly string[]>();
function endpointNames(clusters: readonly EncodedResource[]): readonly string[] {
  let names = referenced.get(clusters);
  if (names) return names;
  const out: string[] = [];
  for (const cluster of clusters) {
    for (const ref of resourceType(cluster.typeUrl)?.references(cluster.message) ?? []) {
      if (ref.typeUrl === TypeUrl.Endpoint) out.push(...ref.names);
    }
  }
  referenced.set(clusters, (names = out));
  return names;
}

/** Results of endpointsToAwait per (clusters, endpoints, held): 1,000 streams of a sync or fan-out hold the same three. */
const awaitedMemo = new WeakMap<readonly EncodedResource[], WeakMap<ReadonlyMap<string, EncodedResource>, WeakMap<object, readonly string[]>>>();

/**
 * EDS names that clusters just sent reference and that the client does not
 * hold at the cache's current version: what the warming gate awaits. Names the
 * cache does not have cannot be awaited. Pure, and remembered per (immutable,
 * usually shared) inputs: at 10,000 clusters the walk cost each of 1,000
 * streams of an initial sync about 2 ms (issue 15 item 1). `held` must never
 * change once passed (a HeldVersions, or the versions of an immutable list).
 */
export function endpointsToAwait(
  clusters: readonly EncodedResource[],
  endpoints: ReadonlyMap<string, EncodedResource> | undefined,
  held: { get(name: string): string | undefined },
): readonly string[] {
  if (!endpoints) return [];
  let byEndpoints = awaitedMemo.get(clusters);
  if (!byEndpoints) awaitedMemo.set(clusters, (byEndpoints = new WeakMap()));
  let byHeld = byEndpoints.get(endpoints);
  if (!byHeld) byEndpoints.set(endpoints, (byHeld = new WeakMap()));
  const known = byHeld.get(held);
  if (known) return known;
  const out: string[] = [];
  for (const name of endpointNames(clusters)) {
    const cla = endpoints.get(name);
    if (cla && held.get(name) !== cla.version) out.push(name);
  }
  byHeld.set(held, out);
  return out;
}
