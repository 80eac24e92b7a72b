import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

/** The last NACK of a type, as Envoy reported it. */
export interface NackInfo {
  /** The version that was rejected (what we sent), not the one the client echoes. */
  readonly version: string;
  /** The nonce of the rejected response. */
  readonly nonce: string;
  /** Envoy's reason (error_detail.message). */
  readonly message: string;
  /** gRPC status code in error_detail. */
  readonly code: number;
  /** When the NACK arrived. */
  readonly at: Date;
}

/**
 * Why the latest response for a type could not be sent: the node keeps the
 * configuration it has while this is set (docs/xds-protocol.md § Operability).
 */
export interface ResponseErrorInfo {
  /** Stable code; "response_too_large": the response exceeds maxResponseBytes (kuma#16355). */
  readonly code: "response_too_large";
  /** What went wrong, for people. */
  readonly message: string;
  /** The version that could not be sent. */
  readonly version: string;
  /** When it happened. */
  readonly at: Date;
}

/**
 * What one node has been sent and has acknowledged, for one type.
 * "Acknowledged" is not "serving": a cluster may still be warming, and SDS
 * failures do not NACK (docs/xds-protocol.md § Stream state).
 */
export interface TypeStatus {
  /** The resource type. */
  readonly typeUrl: string;
  /** The version of the latest response sent. */
  readonly sentVersion?: string;
  /** The nonce of the latest response sent. */
  readonly sentNonce?: string;
  /** When it was sent. */
  readonly sentAt?: Date;
  /** The latest version the node ACKed: what it runs. */
  readonly ackedVersion?: string;
  /** When it ACKed. */
  readonly ackedAt?: Date;
  /**
   * The latest cache version at which the server found nothing new to send
   * the node for this type: everything it subscribes to is present and as
   * last sent (or it subscribes to nothing). A change that removes only what
   * the node no longer asks for (or never asked for) sends no response, so
   * without this the node would look behind forever (issue 8).
   */
  readonly settledVersion?: string;
  /** The latest NACK, kept after a later ACK so operators can see what was refused. */
  readonly lastNack?: NackInfo;
  /** Whether the latest response sent for this type was NACKed (cleared by a later ACK). */
  readonly nacked: boolean;
  /** Set when the latest response could not be sent, or went out over the size limit; cleared by the next response that delivers (see sent()). */
  readonly error?: ResponseErrorInfo;
  /** Responses sent for the type. */
  readonly responses: number;
  /** NACKs received for the type. */
  readonly nacks: number;
  /** Resource names the node subscribes to ("*" for wildcard); empty once the node has no stream open (a disconnected node subscribes to nothing). */
  readonly subscribed: readonly string[];
}

/** What one node was sent, ACKed and NACKed, per type, and its connection. */
export interface NodeStatus {
  /** The node's id. */
  readonly nodeId: string;
  /** The node's cluster (`node.cluster`). */
  readonly nodeCluster: string;
  /**
   * The node as it introduced itself (metadata, locality, user agent), while
   * it has a stream open (or was seen over REST): a disconnected node keeps a
   * slim record (id, cluster, key, times, per-type versions and NACKs) so that
   * churn of nodes with large metadata cannot hold that metadata (issue 14).
   */
  readonly node?: Node;
  /** The cache key the node is served from (its node group). */
  readonly cacheKey: string;
  /** Streams open now, of every Envoy that uses this node id. */
  readonly streams: number;
  /** When the registry first heard of the node id (reset if it was forgotten and came back). */
  readonly firstSeenAt: Date;
  /** When its current streams started: the first of them opened (kept after they close). */
  readonly connectedAt?: Date;
  /** Last activity: a stream opened, re-keyed or closed, a subscription change, a response, an ACK, a NACK, a REST poll. */
  readonly lastSeenAt: Date;
  /** Per type, sorted by type URL. */
  readonly types: readonly TypeStatus[];
  /**
   * Admission control of initial syncs (XdsServerOptions.maxInitialSyncs):
   * "queued" while a stream of the node waits for its turn in a reconnect
   * storm, "syncing" while its first responses are not answered yet; absent
   * once its initial sync is over.
   */
  readonly initialSync?: "queued" | "syncing";
  /** The latest stream the server gave up on (stuck past stuckStreamTimeoutMs, shed over the stream cap), kept after it closed. */
  readonly lastStreamError?: StreamErrorInfo;
}

/** Why the server ended a stream of the node (NodeStatus.lastStreamError). */
export interface StreamErrorInfo {
  /** Stable reason: "stuck" (over its write budget too long, RESOURCE_EXHAUSTED), "shed" (over the stream cap, UNAVAILABLE). */
  readonly reason: "stuck" | "shed";
  /** The gRPC status code the stream ended with. */
  readonly code: number;
  /** The status message the client was sent. */
  readonly message: string;
  /** When it happened. */
  readonly at: Date;
}

/** Options of {@link StatusRegistry}: its clock and how long it remembers nodes that went away. */
export interface StatusRegistryOptions {
  /** The clock behind every timestamp and forgetAfterMs; tests pass a fake one. Default: the wall clock. */
  readonly now?: () => Date;
  /**
   * How many nodes without an open stream keep their last status (the oldest
   * disconnected are forgotten first), so churn cannot grow memory without
   * limit while operators can still see why a node went away. Default 10,000.
   */
  readonly maxDisconnected?: number;
  /**
   * Nodes without an open stream are also forgotten once they have not been
   * seen for this long (checked when status is read). Off by default: only
   * maxDisconnected bounds them.
   */
  readonly forgetAfterMs?: number;
}

type MutableTypeStatus = { -readonly [K in keyof TypeStatus]: TypeStatus[K] };

interface NodeEntry {
  nodeId: string;
  nodeCluster: string;
  node?: Node;
  cacheKey: string;
  streams: number;
  readonly firstSeenAt: Date;
  connectedAt?: Date;
  lastSeenAt: Date;
  types: Map<string, MutableTypeStatus>;
  /** Had streams, has none now: counted against maxDisconnected. */
  disconnected: boolean;
  initialSync?: "queued" | "syncing";
  lastStreamError?: StreamErrorInfo;
}

/**
 * Per-node status, fed by the server's streams as they open, send, and as
 * nodes ACK and NACK (server/stream-reporter.ts); REST fetch feeds it too.
 * The one record of what each node was sent and accepted: CSDS and the
 * runnable control plane's status read it.
 *
 * Keyed by node id (`node.id`), not by cache key: operators ask about one
 * proxy, and several nodes share a cache key (a node group). A node with
 * several streams (per-type xDS, or a new stream opening before the old one
 * closed) is one entry: `streams` counts them, and the entry becomes
 * disconnected when the last one closes.
 *
 * Two Envoys that claim the same node id are one entry too, as for any
 * xDS server keyed by node id: `streams` counts both, `node`, `nodeCluster`
 * and `cacheKey` are those of the stream that opened (or was re-keyed) last,
 * and each type shows whatever the latest stream reported (one Envoy's
 * ACK next to the other's NACK). Give every Envoy its own node id.
 */
export class StatusRegistry {
  readonly #nodes = new Map<string, NodeEntry>();
  readonly #now: () => Date;
  readonly #maxDisconnected: number;
  readonly #forgetAfterMs: number | undefined;
  readonly #forgetListeners = new Set<(nodeId: string) => void>();
  #disconnected = 0;

  constructor(options: StatusRegistryOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    const max = options.maxDisconnected ?? 10_000;
    if (!(Number.isInteger(max) && max >= 0)) {
      throw new XdsError(XdsErrorCode.InvalidArgument, `maxDisconnected must be an integer >= 0, not ${max}`);
    }
    this.#maxDisconnected = max;
    const forget = options.forgetAfterMs;
    if (forget !== undefined && !(Number.isFinite(forget) && forget >= 0)) {
      throw new XdsError(XdsErrorCode.InvalidArgument, `forgetAfterMs must be a finite number >= 0, not ${forget}`);
    }
    this.#forgetAfterMs = forget;
  }

  /** The status of one node, or undefined for a node it does not know (never connected, or forgotten). */
  node(nodeId: string): NodeStatus | undefined {
    const e = this.#nodes.get(nodeId);
    if (!e) return undefined;
    if (this.#expired(e, this.#forgetLimit())) {
      this.#forget(nodeId, e);
      return undefined;
    }
    return snapshotOf(e);
  }

  /** Every known node's status, sorted by node id. */
  nodes(): NodeStatus[] {
    const limit = this.#forgetLimit();
    for (const [id, e] of this.#nodes) if (this.#expired(e, limit)) this.#forget(id, e);
    return [...this.#nodes.keys()].sort().map((id) => snapshotOf(this.#nodes.get(id) as NodeEntry));
  }

  /** Records a stream of the node opening (the server calls this; so can a custom transport). */
  streamOpened(node: Node | { id: string; cluster: string }, cacheKey: string): void {
    const e = this.#seen(node, cacheKey);
    if (e.streams === 0) e.connectedAt = this.#now();
    if (e.disconnected) {
      e.disconnected = false;
      this.#disconnected--;
    }
    e.streams++;
  }

  /**
   * Records that a node asked for something, without a stream: REST polls do
   * this. Streams call it through streamOpened.
   */
  seen(node: Node | { id: string; cluster: string }, cacheKey: string): void {
    this.#seen(node, cacheKey);
  }

  #seen(node: Node | { id: string; cluster: string }, cacheKey: string): NodeEntry {
    const e = this.#entry(node.id);
    e.nodeCluster = node.cluster;
    e.cacheKey = cacheKey;
    if ("$typeName" in node) e.node = node;
    return e;
  }

  /** A stream of the node waits for its initial sync ("queued"), syncs, or is done (undefined); the server calls this. */
  initialSync(nodeId: string, state: "queued" | "syncing" | undefined): void {
    const e = this.#nodes.get(nodeId);
    if (e === undefined) return;
    if (state === undefined) delete e.initialSync;
    else e.initialSync = state;
  }

  /** The server ended a stream of the node on purpose (stuck, shed); kept after the node disconnects. */
  streamError(nodeId: string, error: Omit<StreamErrorInfo, "at">): void {
    const e = this.#nodes.get(nodeId);
    if (e !== undefined) e.lastStreamError = { ...error, at: this.#now() };
  }

  /** A stream of the node now reads from another cache key. */
  streamRekeyed(nodeId: string, cacheKey: string): void {
    this.#entry(nodeId).cacheKey = cacheKey;
  }

  /**
   * Calls `listener` with the id of every node the registry forgets (over
   * maxDisconnected, past forgetAfterMs, pruneDisconnected), so records kept
   * beside it (CSDS resource versions) go with it. Returns the unsubscribe.
   */
  onForget(listener: (nodeId: string) => void): () => void {
    this.#forgetListeners.add(listener);
    return () => this.#forgetListeners.delete(listener);
  }

  /**
   * Records a stream of the node closing; true when it was the node's last
   * stream: the node is disconnected, and keeps only its slim record.
   */
  streamClosed(nodeId: string): boolean {
    const e = this.#nodes.get(nodeId);
    if (!e || e.streams === 0) return false;
    e.streams--;
    // Seen until now: forgetAfterMs counts from the disconnect.
    e.lastSeenAt = this.#now();
    if (e.streams > 0) return false;
    // Slim record: what the node said about itself (metadata can be tens of
    // KiB) and what it subscribed to (thousands of names) go; versions,
    // NACKs and errors stay, that is what operators ask about a node that left.
    delete e.node;
    delete e.initialSync;
    for (const t of e.types.values()) t.subscribed = [];
    // Move it to the end of the map: the map's order is then oldest disconnect first.
    this.#nodes.delete(nodeId);
    this.#nodes.set(nodeId, e);
    e.disconnected = true;
    this.#disconnected++;
    for (const [id, other] of this.#nodes) {
      if (this.#disconnected <= this.#maxDisconnected) break;
      if (other.streams === 0) this.#forget(id, other);
    }
    return true;
  }

  /** Records the names the node subscribes to for a type ("*" for wildcard). */
  subscribed(nodeId: string, typeUrl: string, names: readonly string[]): void {
    this.#type(nodeId, typeUrl).subscribed = sortedNames(names);
  }

  /**
   * A response went out. What it does to a response error (`error`):
   * - "clear": it delivered what the error was about (SotW sends the whole state);
   * - "keep": it did not (a SotW TTL heartbeat resends what the node already has);
   * - by default, cleared unless the error is about this very version: the
   *   parts of one Delta response share their version, and a part that fits
   *   does not undo the report of one that did not.
   */
  sent(nodeId: string, typeUrl: string, version: string, nonce: string, options: { error?: "clear" | "keep" } = {}): void {
    const t = this.#type(nodeId, typeUrl);
    t.sentVersion = version;
    t.sentNonce = nonce;
    t.sentAt = this.#now();
    t.responses++;
    t.nacked = false;
    const clear = options.error === "clear" || (options.error === undefined && t.error?.version !== version);
    if (clear) delete t.error;
  }

  /**
   * A response could not be sent (e.g. too large): the node keeps its
   * configuration; operators see why. The same error for the same version,
   * met again when the type is looked at again, keeps its first `at`: since when.
   */
  responseFailed(nodeId: string, typeUrl: string, error: Omit<ResponseErrorInfo, "at">): void {
    const t = this.#type(nodeId, typeUrl);
    if (t.error?.code === error.code && t.error.version === error.version) return;
    t.error = { ...error, at: this.#now() };
  }

  /**
   * Records that the server looked at `version` of a type for the node and
   * had nothing new to send (see TypeStatus.settledVersion). Not activity of
   * the node: lastSeenAt stays.
   */
  settled(nodeId: string, typeUrl: string, version: string): void {
    const t = this.#nodes.get(nodeId)?.types.get(typeUrl);
    if (t !== undefined) t.settledVersion = version;
  }

  /** Records an ACK of a type at a version. */
  acked(nodeId: string, typeUrl: string, version: string): void {
    const t = this.#type(nodeId, typeUrl);
    t.ackedVersion = version;
    t.ackedAt = this.#now();
    t.nacked = false;
  }

  /** Records a NACK of a type, with Envoy's reason. */
  nacked(nodeId: string, typeUrl: string, nack: Omit<NackInfo, "at">): void {
    const t = this.#type(nodeId, typeUrl);
    t.lastNack = { ...nack, at: this.#now() };
    t.nacked = true;
    t.nacks++;
  }

  /** Forgets nodes with no open stream, e.g. on a timer; status of connected nodes stays. */
  pruneDisconnected(): void {
    for (const [id, e] of this.#nodes) if (e.streams === 0) this.#forget(id, e);
  }

  /** Nodes without a stream last seen before this time (ms) are forgotten; undefined: none. */
  #forgetLimit(): number | undefined {
    return this.#forgetAfterMs === undefined ? undefined : this.#now().getTime() - this.#forgetAfterMs;
  }

  #expired(e: NodeEntry, limit: number | undefined): boolean {
    return limit !== undefined && e.streams === 0 && e.lastSeenAt.getTime() < limit;
  }

  #forget(nodeId: string, e: NodeEntry): void {
    this.#nodes.delete(nodeId);
    if (e.disconnected) this.#disconnected--;
    for (const listener of this.#forgetListeners) listener(nodeId);
  }

  #entry(nodeId: string): NodeEntry {
    let e = this.#nodes.get(nodeId);
    const now = this.#now();
    if (!e) this.#nodes.set(nodeId, (e = { nodeId, nodeCluster: "", cacheKey: nodeId, streams: 0, firstSeenAt: now, lastSeenAt: now, types: new Map(), disconnected: false }));
    e.lastSeenAt = now;
    return e;
  }

  #type(nodeId: string, typeUrl: string): MutableTypeStatus {
    const e = this.#entry(nodeId);
    let t = e.types.get(typeUrl);
    if (!t) e.types.set(typeUrl, (t = { typeUrl, responses: 0, nacks: 0, nacked: false, subscribed: [] }));
    return t;
  }
}

function snapshotOf(e: NodeEntry): NodeStatus {
  const types = [...e.types.values()].map((t) => ({ ...t })).sort((a, b) => (a.typeUrl < b.typeUrl ? -1 : 1));
  const base = { nodeId: e.nodeId, nodeCluster: e.nodeCluster, cacheKey: e.cacheKey, streams: e.streams, firstSeenAt: e.firstSeenAt, lastSeenAt: e.lastSeenAt, types };
  return {
    ...base,
    ...(e.connectedAt ? { connectedAt: e.connectedAt } : {}),
    ...(e.node ? { node: e.node } : {}),
    ...(e.initialSync ? { initialSync: e.initialSync } : {}),
    ...(e.lastStreamError ? { lastStreamError: { ...e.lastStreamError } } : {}),
  };
}

/** Sorted copies per (immutable, often shared) list: streams subscribed alike share one in status (issue 15 item 1). */
const sortedLists = new WeakMap<readonly string[], readonly string[]>();
function sortedNames(names: readonly string[]): readonly string[] {
  let sorted = sortedLists.get(names);
  if (!sorted) sortedLists.set(names, (sorted = [...names].sort()));
  return sorted;
}
