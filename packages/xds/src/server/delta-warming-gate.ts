import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType } from "../resource/resource-types.ts";
import { TypeUrl } from "../resource/type-urls.ts";

/**
 * Make before break for new clusters on one ADS stream. Envoy warms a new EDS
 * cluster until its endpoints arrive, but does not warm routes: a route to a
 * cluster still warming answers 503 (go-control-plane #526, #705, #800). So
 * after clusters went out, the gate awaits their endpoints; while it is
 * closed, the stream holds back LDS, RDS and later types (and keeps removals
 * deferred). It opens when every awaited name was sent, when the client
 * NACKs the clusters, or after `waitMs` in case the client never asks.
 */
export class WarmingGate {
  readonly #awaiting = new Set<string>();
  readonly #held = new Set<string>();
  readonly #waitMs: number;
  readonly #onOpen: (held: readonly string[]) => void;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(options: { waitMs: number; onOpen: (held: readonly string[]) => void }) {
    this.#waitMs = options.waitMs;
    this.#onOpen = options.onOpen;
  }

  /** Whether endpoints are awaited: types after EDS must wait. */
  get closed(): boolean {
    return this.#awaiting.size > 0;
  }

  /** A type held back while the gate is closed; handed to onOpen. */
  hold(typeUrl: string): void {
    this.#held.add(typeUrl);
  }

  await(names: Iterable<string>): void {
    for (const name of names) this.#awaiting.add(name);
    if (this.#awaiting.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => this.open(), this.#waitMs);
      this.#timer.unref();
    }
  }

  /** Endpoint names just sent (or reported removed) to the client. */
  delivered(names: Iterable<string>): void {
    if (!this.closed) return;
    for (const name of names) this.#awaiting.delete(name);
    if (!this.closed) this.open();
  }

  open(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#awaiting.clear();
    const held = [...this.#held];
    this.#held.clear();
    this.#onOpen(held);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#awaiting.clear();
    this.#held.clear();
  }
}

/**
 * EDS names referenced by clusters that the client does not hold at the
 * cache's current version. Names the cache does not have cannot be awaited.
 */
export function endpointsToAwait(
  clusters: readonly EncodedResource[],
  endpoints: ReadonlyMap<string, EncodedResource> | undefined,
  held: ReadonlyMap<string, string>,
): string[] {
  const out: string[] = [];
  for (const cluster of clusters) {
    for (const ref of resourceType(cluster.typeUrl)?.references(cluster.message) ?? []) {
      if (ref.typeUrl !== TypeUrl.Endpoint) continue;
      for (const name of ref.names) {
        const cla = endpoints?.get(name);
        if (cla && held.get(name) !== cla.version) out.push(name);
      }
    }
  }
  return out;
}
