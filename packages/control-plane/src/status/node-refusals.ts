/** One refused xDS stream: who asked, as what, and why (status `refusals`). */
export interface NodeRefusal {
  readonly nodeId: string;
  readonly cluster: string;
  /** The node group the node id / cluster maps to; null when it matches none. */
  readonly group: string | null;
  /** The client certificate's identity (URI SAN, else dns:SAN, else cn:CN); "" without one. */
  readonly identity: string;
  /** SHA-256 fingerprint of the client certificate; "" without one. */
  readonly fingerprint256: string;
  /** What the proxy was told (the PERMISSION_DENIED details). */
  readonly reason: string;
  /** When it was last refused, ISO 8601. */
  readonly at: string;
  /** How many times it was refused. */
  readonly count: number;
}

/**
 * The latest refusal per node id, so an operator can see why a proxy gets no
 * configuration although it connects. Bounded: a client cycling through node
 * ids cannot grow it past `max`; the oldest entry goes first.
 */
export class NodeRefusals {
  readonly #max: number;
  readonly #byNode = new Map<string, NodeRefusal>();

  constructor(options: { max?: number } = {}) {
    this.#max = options.max ?? 1000;
  }

  /** Records a refusal (replacing the node's previous one, counting both). */
  record(refusal: Omit<NodeRefusal, "count" | "at">, now: Date = new Date()): NodeRefusal {
    const previous = this.#byNode.get(refusal.nodeId);
    this.#byNode.delete(refusal.nodeId);
    const entry: NodeRefusal = { ...refusal, at: now.toISOString(), count: (previous?.count ?? 0) + 1 };
    this.#byNode.set(refusal.nodeId, entry);
    for (const oldest of this.#byNode.keys()) {
      if (this.#byNode.size <= this.#max) break;
      this.#byNode.delete(oldest);
    }
    return entry;
  }

  /** A node was allowed after all (e.g. a new certificate): its refusal is history. */
  clear(nodeId: string): void {
    this.#byNode.delete(nodeId);
  }

  /** Every node's latest refusal, sorted by node id. */
  list(): NodeRefusal[] {
    return [...this.#byNode.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }
}
