/**
 * What a Delta client holds of one type: resource name -> version. Immutable,
 * so streams with the same history share one: 1,000 Envoys that got the same
 * 10,000 endpoints hold one map, not 1,000 (docs/xds-protocol.md § Cost: per-stream
 * memory follows what differs). A change makes a new value that shares the
 * unchanged entries: a shared base map plus a small overlay of what differs,
 * folded into a new base once the overlay is no longer small.
 */
const gone: unique symbol = Symbol("gone");

export class HeldVersions implements ReadonlyMap<string, string> {
  static readonly empty: HeldVersions = new HeldVersions(new Map(), new Map(), 0);

  readonly #base: ReadonlyMap<string, string>;
  /** Entries that differ from the base; `gone` marks a base entry removed. */
  readonly #overlay: ReadonlyMap<string, string | typeof gone>;
  readonly size: number;

  private constructor(base: ReadonlyMap<string, string>, overlay: ReadonlyMap<string, string | typeof gone>, size: number) {
    this.#base = base;
    this.#overlay = overlay;
    this.size = size;
  }

  get(name: string): string | undefined {
    const o = this.#overlay.get(name);
    if (o === gone) return undefined;
    return o ?? this.#base.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  *entries(): MapIterator<[string, string]> {
    for (const [name, version] of this.#overlay) if (version !== gone) yield [name, version];
    for (const entry of this.#base) if (!this.#overlay.has(entry[0])) yield entry;
  }

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): MapIterator<string> {
    for (const [, version] of this.entries()) yield version;
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  forEach(callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (const [name, version] of this.entries()) callback.call(thisArg, version, name, this);
  }

  /**
   * This map with some names set (a version) or removed (undefined). Returns
   * this very object when nothing changes.
   */
  with(changes: Iterable<readonly [string, string | undefined]>): HeldVersions {
    let overlay: Map<string, string | typeof gone> | undefined;
    let size = this.size;
    for (const [name, version] of changes) {
      const current = overlay ? valueIn(overlay, this.#base, name) : this.get(name);
      if (current === version) continue;
      overlay ??= new Map(this.#overlay);
      if (version === undefined) {
        size--;
        if (this.#base.has(name)) overlay.set(name, gone);
        else overlay.delete(name);
      } else {
        if (current === undefined) size++;
        if (this.#base.get(name) === version) overlay.delete(name);
        else overlay.set(name, version);
      }
    }
    if (!overlay) return this;
    // The overlay is copied per change: past the square root of the base (and
    // a minimum), everything is folded into a new base, so a change costs about
    // sqrt(size) amortised, and streams sharing a history share the fold.
    if (overlay.size > 64 && overlay.size * overlay.size > this.#base.size) {
      const base = new Map<string, string>();
      for (const [name, version] of this.#base) if (!overlay.has(name)) base.set(name, version);
      for (const [name, version] of overlay) if (version !== gone) base.set(name, version);
      return new HeldVersions(base, new Map(), size);
    }
    return new HeldVersions(this.#base, overlay, size);
  }

  get [Symbol.toStringTag](): string {
    return "HeldVersions";
  }
}

function valueIn(overlay: ReadonlyMap<string, string | typeof gone>, base: ReadonlyMap<string, string>, name: string): string | undefined {
  const o = overlay.get(name);
  if (o === gone) return undefined;
  return o ?? base.get(name);
}
