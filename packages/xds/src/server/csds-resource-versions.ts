import type { ConfigWatcher } from "../cache/config-watcher.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";

interface Tracked {
  /** Content hash of the resource as last sent. */
  readonly contentVersion: string;
  /** version_info of the response that last changed it for this node. */
  readonly versionInfo: string;
}

/** What a node holds of one type, by name. Immutable: nodes in the same state share one. */
type Record = ReadonlyMap<string, Tracked>;

/**
 * The transition last taken from a record: a fan-out takes the same one from
 * the same record for every node, so it is computed once and the nodes end up
 * sharing the resulting record (docs/xds-protocol.md § Cost: 1,000 nodes holding
 * the same 10,000 endpoints keep one map, not 1,000). The result is held
 * weakly: a record nobody holds any more goes, whatever still points at it.
 */
interface Transition {
  readonly versionInfo: string;
  /** The cache's resources the names were looked up in (undefined for recordSent). */
  readonly source: object | undefined;
  /** The (immutable, shared) list of names or resources sent. */
  readonly sent: object;
  readonly next: WeakRef<Record>;
}

const emptyRecord: Record = new Map();
/** Transitions remembered per record: enough for the types of one stream served in a row. */
const transitionsKept = 4;

/** The record after a response: copied only when some resource changed (records are shared, never mutated). */
function apply(previous: Record, versionInfo: string, resources: readonly EncodedResource[]): Record {
  let next: Map<string, Tracked> | undefined;
  for (const r of resources) {
    if ((next ?? previous).get(r.name)?.contentVersion === r.version) continue;
    next ??= new Map(previous);
    next.set(r.name, { contentVersion: r.version, versionInfo });
  }
  return next ?? previous;
}

/**
 * Per-resource versions the way Envoy reports them. A SotW version_info is per
 * type, but Envoy's /config_dump (and its own CSDS view) gives each resource
 * the version_info of the response that last *changed* it: a cluster that a
 * response carries unmodified is skipped and keeps its older version ("skipped
 * 1 unmodified cluster(s)"). Without this record, CSDS would report the type's
 * latest version for every resource and disagree with Envoy after any update
 * that leaves some resources alone.
 *
 * The server's streams feed it through {@link recordSotwResponse}; REST
 * fetch calls {@link recordSent}. Lookups are cheap maps; records of
 * nodes the status registry no longer knows go in {@link retainOnly}.
 */
export class CsdsResourceVersions {
  readonly #cache: ConfigWatcher;
  /** nodeId -> typeUrl -> record (name -> tracked), shared between nodes in the same state. */
  readonly #byNode = new Map<string, Map<string, Record>>();
  /**
   * The last few transitions from each record, newest first. Not one: every
   * type of a new node starts from the empty record, and when streams are
   * served one after another (admission control, admission-queue.ts) their
   * CDS and EDS responses alternate; with one slot each evicted the other and
   * every node built its own records (174,000 extra entries for 400 nodes).
   */
  readonly #transitions = new WeakMap<Record, Transition[]>();
  /** nodeId -> typeUrl -> what the node's Delta stream holds (name -> version), by reference. */
  readonly #delta = new Map<string, Map<string, ReadonlyMap<string, string>>>();

  /** @param options - The cache the tracked nodes are served from. */
  constructor(options: { cache: ConfigWatcher }) {
    this.#cache = options.cache;
  }

  /**
   * Records a SotW response the server sent (server/stream-reporter.ts): the
   * sent names are looked up under `cacheKey`, the key the stream selected
   * them from, so it must be called synchronously at response time, while the
   * cache still holds what was selected. Pass the very list the stream sent
   * (one list for every stream that sent the same): nodes given the same
   * response from the same record then share the resulting record.
   */
  recordSotwResponse(sent: { nodeId: string; cacheKey: string; typeUrl: string; versionInfo: string; resourceNames: readonly string[] }): void {
    const available = this.#cache.get(sent.cacheKey, sent.typeUrl);
    if (!available) return;
    this.#advance(sent.nodeId, sent.typeUrl, sent.versionInfo, available, sent.resourceNames, () => {
      const resources: EncodedResource[] = [];
      for (const name of sent.resourceNames) {
        // A name kept for make-before-break is no longer in the cache: its record stays as it was.
        const r = available.items.get(name);
        if (r) resources.push(r);
      }
      return resources;
    });
  }

  /** Records a response sent to a node: resources whose content changed take its version_info. */
  recordSent(sent: { nodeId: string; typeUrl: string; versionInfo: string; resources: readonly EncodedResource[] }): void {
    this.#advance(sent.nodeId, sent.typeUrl, sent.versionInfo, undefined, sent.resources, () => sent.resources);
  }

  /**
   * What a Delta node holds of a type, as its stream last recorded it: each
   * resource at its own version (Resource.version), which is what Envoy's
   * /config_dump shows for it (not the response's system_version_info, all the
   * status record knows). `held` is the stream's own immutable map of what it
   * sent (protocol/held-versions.ts), shared by streams with the same history,
   * so this keeps a reference, never a copy: copying 10,000 names per node per
   * change is what a 1,000-node Delta fan-out cannot afford
   * (docs/xds-protocol.md § Cost).
   */
  recordDeltaHeld(sent: { nodeId: string; typeUrl: string; held: ReadonlyMap<string, string> }): void {
    let types = this.#delta.get(sent.nodeId);
    if (!types) this.#delta.set(sent.nodeId, (types = new Map()));
    types.set(sent.typeUrl, sent.held);
  }

  #advance(nodeId: string, typeUrl: string, versionInfo: string, source: object | undefined, sentKey: object, resources: () => readonly EncodedResource[]): void {
    let types = this.#byNode.get(nodeId);
    if (!types) this.#byNode.set(nodeId, (types = new Map()));
    const previous = types.get(typeUrl) ?? emptyRecord;
    const recent = this.#transitions.get(previous);
    let next: Record | undefined;
    for (const last of recent ?? []) {
      if (last.versionInfo === versionInfo && last.source === source && last.sent === sentKey) next = last.next.deref();
      if (next) break;
    }
    if (!next) {
      next = apply(previous, versionInfo, resources());
      const transition = { versionInfo, source, sent: sentKey, next: new WeakRef(next) };
      if (recent === undefined) this.#transitions.set(previous, [transition]);
      else {
        recent.unshift(transition);
        if (recent.length > transitionsKept) recent.pop();
      }
    }
    types.set(typeUrl, next);
  }

  /**
   * The version_info of the response that last changed the resource for the
   * node; undefined when it was never sent to the node.
   */
  versionOf(nodeId: string, typeUrl: string, name: string): string | undefined {
    const held = this.#delta.get(nodeId)?.get(typeUrl);
    if (held !== undefined) return held.get(name);
    return this.#byNode.get(nodeId)?.get(typeUrl)?.get(name)?.versionInfo;
  }

  /**
   * Whether two nodes hold one shared record of a type: nodes sent the same
   * responses in the same order do, which is what keeps a fan-out's memory
   * flat (docs/xds-protocol.md § Cost). False when either has none.
   */
  sharesRecord(nodeA: string, nodeB: string, typeUrl: string): boolean {
    const a = this.#byNode.get(nodeA)?.get(typeUrl);
    return a !== undefined && a === this.#byNode.get(nodeB)?.get(typeUrl);
  }

  /**
   * Drops nodes not in `nodeIds` (those the status registry pruned). Records
   * are not dropped when a stream closes: after a reconnect Envoy again skips
   * unmodified resources and keeps their older versions, and so must we.
   */
  retainOnly(nodeIds: ReadonlySet<string>): void {
    for (const id of [...this.#byNode.keys(), ...this.#delta.keys()]) if (!nodeIds.has(id)) this.forget(id);
  }

  /**
   * Drops the reference to what a node's Delta streams held, once the last
   * of them closed: the map belongs to the stream, and a disconnected node
   * must not keep it alive (issue 14). SotW records stay (see retainOnly).
   */
  forgetDeltaHeld(nodeId: string): void {
    this.#delta.delete(nodeId);
  }

  /** Drops what is tracked for a node (e.g. once the status registry forgot it). */
  forget(nodeId: string): void {
    this.#byNode.delete(nodeId);
    this.#delta.delete(nodeId);
  }
}
