import type { TypeResources } from "../protocol/sotw-selection.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { processSendSlicer, type SendSlicer } from "./send-slicer.ts";

/** Resources prepared per slice task: a few milliseconds of encoding. */
const chunk = 256;

interface Warming {
  readonly iterator: Iterator<EncodedResource>;
  readonly waiters: Array<() => void>;
  readonly key: object;
}

/**
 * Prepares a type's resources (their bytes, version and, for Delta, the
 * `Resource` wrapper) in slices that yield, before the first response that
 * needs them all (issue 15 item 4). A snapshot set while nobody watched is
 * encoded on first use (docs/xds-protocol.md § When a snapshot's resources
 * are encoded): after a restart, the first stream's first response would
 * otherwise encode and wrap 10,000 resources in one stretch of 50-150 ms.
 * Streams asking meanwhile wait for the same preparation; once done, a type's
 * resources are never prepared again.
 */
export class ResourceWarmer {
  readonly #slicer: SendSlicer;
  /** Per type resources and preparation (`touch`): done, or under way. */
  readonly #state = new WeakMap<TypeResources, Map<(r: EncodedResource) => void, Warming | "done">>();

  constructor(options: { slicer?: SendSlicer } = {}) {
    this.#slicer = options.slicer ?? processSendSlicer;
  }

  /**
   * Whether `touch` was applied to every resource of `source`; when not,
   * starts (or joins) the preparation and calls `ready` once it is done.
   */
  warm(source: TypeResources, touch: (r: EncodedResource) => void, ready: () => void): boolean {
    let byTouch = this.#state.get(source);
    if (!byTouch) this.#state.set(source, (byTouch = new Map()));
    const state = byTouch.get(touch);
    if (state === "done") return true;
    if (state) {
      state.waiters.push(ready);
      return false;
    }
    if (source.items.size <= chunk) {
      for (const r of source.items.values()) touch(r);
      byTouch.set(touch, "done");
      return true;
    }
    const warming: Warming = { iterator: source.items.values(), waiters: [], key: {} };
    byTouch.set(touch, warming);
    const table = byTouch;
    // The slicer may run steps at once while the slice has time: done before
    // this call returns, the answer is true and `ready` is not called.
    const step = (): void => {
      for (let i = 0; i < chunk; i++) {
        const next = warming.iterator.next();
        if (next.done) {
          table.set(touch, "done");
          for (const waiter of warming.waiters) waiter();
          return;
        }
        touch(next.value);
      }
      // Requests are not held by the drain gate: neither is what they wait for.
      this.#slicer.run(warming.key, step, { gated: false });
    };
    step();
    if (table.get(touch) === "done") return true;
    warming.waiters.push(ready);
    return false;
  }
}

/** The process's one warmer, beside its one slicer. */
export const processResourceWarmer: ResourceWarmer = new ResourceWarmer();

/** What a SotW response needs of a resource: its bytes (Any) and version. */
export function touchEncoded(r: EncodedResource): void {
  void r.version;
  void r.any;
}
