import { HeldVersions } from "./held-versions.ts";
import { wildcardName } from "./sotw-subscription.ts";

/**
 * What a Delta (incremental) client is subscribed to for one type on one
 * stream, and what the server believes the client holds.
 *
 * docs/xds-protocol.md § Subscriptions (Delta): `resource_names_subscribe` and
 * `resource_names_unsubscribe` are increments, including `*`; legacy wildcard
 * is per type (go-control-plane #1296, #1323, #349); what the client has is
 * tracked per resource version, seeded by `initial_resource_versions` on
 * (re)connect so unchanged resources are not resent.
 *
 * Mutable on purpose: one instance lives in one stream's type state and is
 * only touched by that stream.
 */
export interface DeltaSubscription {
  /** Every resource of the type, whatever names are listed. */
  wildcard: boolean;
  /**
   * Still in legacy wildcard mode: the first request subscribed to nothing on a
   * full-state type. Ends as soon as the client names anything (subscribe or
   * unsubscribe); from then on only an explicit `*` keeps the wildcard
   * (xDS protocol, "How the client specifies what resources to return").
   */
  legacyWildcard: boolean;
  /**
   * Names explicitly subscribed (without "*"). Replaced on change, never
   * mutated by callers: streams that subscribed to the same names share one set.
   */
  names: ReadonlySet<string>;
  /**
   * Resource name -> version the client holds, as far as the server knows.
   * Immutable and replaced on change, shared by streams with the same history
   * (held-versions.ts).
   */
  clientVersions: HeldVersions;
  /**
   * Subscribed names the client was told do not exist (in removed_resources),
   * so that answer is given once, not on every push (go-control-plane #565).
   */
  readonly toldMissing: Set<string>;
}

export interface DeltaRequestChange {
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  /** Only honoured on the first request for the type on a stream. */
  readonly initialResourceVersions?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

/** A new subscription from the first Delta request of a type on a stream. */
export function createDeltaSubscription(first: DeltaRequestChange, options: { fullState: boolean }): DeltaSubscription {
  const sub: DeltaSubscription = {
    wildcard: false,
    legacyWildcard: false,
    names: emptyNames,
    clientVersions: HeldVersions.empty,
    toldMissing: new Set(),
  };
  const initial = first.initialResourceVersions;
  if (initial) {
    const entries = initial instanceof Map ? [...initial] : Object.entries(initial as Record<string, string>);
    sub.clientVersions = HeldVersions.empty.with(entries.filter(([name]) => name !== wildcardName));
  }
  if (options.fullState && first.subscribe.length === 0 && first.unsubscribe.length === 0) {
    // Legacy wildcard: an empty first request on LDS/CDS means "everything".
    // Never for EDS/RDS: there an empty request subscribes to nothing.
    sub.wildcard = true;
    sub.legacyWildcard = true;
    return sub;
  }
  applyDeltaRequest(sub, { subscribe: first.subscribe, unsubscribe: first.unsubscribe });
  return sub;
}

/**
 * Applies one request's subscribe/unsubscribe increments. Called for every
 * request, including one with a stale nonce: Envoy relies on subscription
 * changes being applied whatever nonce they carry (docs/xds-protocol.md § nonces).
 */
export function applyDeltaRequest(sub: DeltaSubscription, change: Pick<DeltaRequestChange, "subscribe" | "unsubscribe">): void {
  if (change.subscribe.length === 0 && change.unsubscribe.length === 0) return;
  if (sub.legacyWildcard) {
    // Naming resources ends legacy wildcard; a client that wants to keep
    // everything says `*` explicitly (Envoy does, e.g. with on-demand CDS).
    sub.legacyWildcard = false;
    sub.wildcard = false;
  }
  for (const name of change.subscribe) if (name === wildcardName) sub.wildcard = true;
  // Every increment at once: the "*" unsubscribe below sees the names without
  // the ones this request unsubscribes, which it would forget anyway.
  sub.names = namesAfter(sub.names, change.subscribe, change.unsubscribe);
  const forgotten: Array<[string, undefined]> = [];
  for (const name of change.unsubscribe) {
    if (name === wildcardName) {
      sub.wildcard = false;
      // Resources held only through the wildcard are dropped by the client.
      for (const held of sub.clientVersions.keys()) if (!sub.names.has(held)) forgotten.push([held, undefined]);
      continue;
    }
    sub.toldMissing.delete(name);
    // The client forgets an unsubscribed resource. If the wildcard still
    // covers it, it must get it back: so forget what we sent, and it is resent
    // (or reported removed) on the next push (go-control-plane #558, #583).
    forgotten.push([name, undefined]);
  }
  if (forgotten.length > 0) sub.clientVersions = sub.clientVersions.with(forgotten);
}

const emptyNames: ReadonlySet<string> = new Set();

interface NamesTransition {
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  readonly next: WeakRef<ReadonlySet<string>>;
}

/** The last change applied to each names set: streams of a fan-out apply the same one and share the result. */
const namesTransitions = new WeakMap<ReadonlySet<string>, NamesTransition>();
/** Sets held by the one stream that made them: changed in place, which costs the names changed rather than a copy. */
const owned = new WeakSet<ReadonlySet<string>>();
/** The set each owned set was made from, whose remembered transition points at it. */
const madeFrom = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

function namesAfter(previous: ReadonlySet<string>, subscribe: readonly string[], unsubscribe: readonly string[]): ReadonlySet<string> {
  const last = namesTransitions.get(previous);
  const shared = last && sameStrings(last.subscribe, subscribe) && sameStrings(last.unsubscribe, unsubscribe) ? last.next.deref() : undefined;
  if (shared) {
    // Another stream holds it now: nobody changes it in place any more.
    if (shared !== previous) owned.delete(shared);
    return shared;
  }
  if (owned.has(previous)) {
    // Only this stream holds it: change it in place, and forget every
    // transition that would hand out its old content.
    const from = madeFrom.get(previous);
    if (from && namesTransitions.get(from)?.next.deref() === previous) namesTransitions.delete(from);
    namesTransitions.delete(previous);
    madeFrom.delete(previous);
    const names = previous as Set<string>;
    for (const name of subscribe) if (name !== wildcardName) names.add(name);
    for (const name of unsubscribe) if (name !== wildcardName) names.delete(name);
    return names;
  }
  let next: Set<string> | undefined;
  for (const name of subscribe) if (name !== wildcardName && !(next ?? previous).has(name)) (next ??= new Set(previous)).add(name);
  for (const name of unsubscribe) if (name !== wildcardName && (next ?? previous).has(name)) (next ??= new Set(previous)).delete(name);
  if (next) {
    owned.add(next);
    madeFrom.set(next, previous);
  }
  const result = next ?? previous;
  namesTransitions.set(previous, { subscribe: [...subscribe], unsubscribe: [...unsubscribe], next: new WeakRef(result) });
  return result;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether the subscription covers a name. */
export function isSubscribed(sub: DeltaSubscription, name: string): boolean {
  return sub.wildcard || sub.names.has(name);
}

/** A resource as the Delta rules need it: its name and its per-resource version. */
export interface Versioned {
  readonly name: string;
  readonly version: string;
}

export interface DeltaSelection<R extends Versioned> {
  /** Resources whose version differs from what the client holds; sorted by name. */
  readonly resources: readonly R[];
  /** Names to report in removed_resources; sorted. */
  readonly removed: readonly string[];
}

/**
 * What to send now: every subscribed resource whose version differs from the
 * client's, and in `removed` every name the client holds that is gone, plus
 * every explicitly subscribed name that does not exist and was not reported
 * yet (go-control-plane #565: Envoy otherwise waits for its initial fetch
 * timeout). Pure: the caller records the result with {@link recordDeltaSent}.
 */
export function selectDelta<R extends Versioned>(available: ReadonlyMap<string, R>, sub: DeltaSubscription): DeltaSelection<R> {
  const resources: R[] = [];
  const removed = new Set<string>();
  const consider = (r: R): void => {
    if (sub.clientVersions.get(r.name) !== r.version) resources.push(r);
  };
  if (sub.wildcard) {
    for (const r of available.values()) consider(r);
  } else {
    for (const name of sub.names) {
      const r = available.get(name);
      if (r) consider(r);
    }
  }
  for (const name of sub.clientVersions.keys()) {
    if (!available.has(name) && isSubscribed(sub, name)) removed.add(name);
  }
  for (const name of sub.names) {
    if (!available.has(name) && !sub.clientVersions.has(name) && !sub.toldMissing.has(name)) removed.add(name);
  }
  resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resources, removed: [...removed].sort() };
}

/**
 * {@link selectDelta} restricted to some names: what the full walk would
 * return for them, in the same order. When only these names changed since the
 * stream last selected and recorded its response, the result is the full
 * walk's, at the cost of the names instead of every subscribed resource
 * (docs/xds-protocol.md § Cost: one endpoint moving among 10,000 is checked once
 * per stream, not 10,000 times).
 */
export function selectDeltaNames<R extends Versioned>(available: ReadonlyMap<string, R>, sub: DeltaSubscription, names: Iterable<string>): DeltaSelection<R> {
  const resources: R[] = [];
  const removed: string[] = [];
  for (const name of names) {
    if (!isSubscribed(sub, name)) continue;
    const r = available.get(name);
    if (r) {
      if (sub.clientVersions.get(name) !== r.version) resources.push(r);
    } else if (sub.clientVersions.has(name) || (sub.names.has(name) && !sub.toldMissing.has(name))) {
      removed.push(name);
    }
  }
  resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resources, removed: removed.sort() };
}

/** Records a sent response: the client now holds these versions and lacks these names. */
export function recordDeltaSent(sub: DeltaSubscription, sent: { resources: readonly Versioned[]; removed: readonly string[] }): void {
  sub.clientVersions = afterSent(sub.clientVersions, sent);
  for (const r of sent.resources) sub.toldMissing.delete(r.name);
  for (const name of sent.removed) if (sub.names.has(name)) sub.toldMissing.add(name);
}

interface SentTransition {
  readonly resources: readonly Versioned[];
  readonly removed: readonly string[];
  readonly next: WeakRef<HeldVersions>;
}

/**
 * The last transitions taken from each held-versions value: streams of a
 * fan-out hold the same value and are sent the same resources, so the first
 * computes the next value and the others share it (the comparison costs what
 * recording did). The result is held weakly, for the streams that hold it.
 * A few are kept, not one: every type of a new stream starts from
 * HeldVersions.empty, and when streams are served one after another
 * (admission control, server/admission-queue.ts) their CDS and EDS
 * transitions alternate; with one slot each would evict the other and every
 * stream would build its own map of 10,000 names.
 */
const lastSent = new WeakMap<HeldVersions, SentTransition[]>();
const transitionsKept = 4;

function afterSent(held: HeldVersions, sent: { resources: readonly Versioned[]; removed: readonly string[] }): HeldVersions {
  const recent = lastSent.get(held);
  if (recent !== undefined) {
    for (const last of recent) {
      const shared = sameSent(last, sent) ? last.next.deref() : undefined;
      if (shared) return shared;
    }
  }
  const changes: Array<readonly [string, string | undefined]> = sent.resources.map((r) => [r.name, r.version] as const);
  for (const name of sent.removed) changes.push([name, undefined]);
  const next = held.with(changes);
  const transition = { resources: sent.resources, removed: sent.removed, next: new WeakRef(next) };
  if (recent === undefined) lastSent.set(held, [transition]);
  else {
    recent.unshift(transition);
    if (recent.length > transitionsKept) recent.pop();
  }
  return next;
}

function sameSent(a: { resources: readonly Versioned[]; removed: readonly string[] }, b: { resources: readonly Versioned[]; removed: readonly string[] }): boolean {
  if (a.resources.length !== b.resources.length || a.removed.length !== b.removed.length) return false;
  for (let i = 0; i < b.resources.length; i++) {
    const x = a.resources[i];
    const y = b.resources[i];
    if (x !== y && (x?.name !== y?.name || x?.version !== y?.version)) return false;
  }
  for (let i = 0; i < b.removed.length; i++) if (a.removed[i] !== b.removed[i]) return false;
  return true;
}

/** Names for status: "*" first when wildcard, then the explicit names, sorted. */
export function deltaSubscribedNames(sub: DeltaSubscription): readonly string[] {
  // Once per shared set, not per stream: 1,000 streams subscribed to the same
  // 10,000 names then share one sorted list in status (issue 15 item 1). A
  // set one stream changes in place (owned) is never remembered.
  const shared = !owned.has(sub.names);
  const known = shared ? subscribedLists.get(sub.names) : undefined;
  const cached = known && (sub.wildcard ? known.wildcard : known.plain);
  if (cached) return cached;
  const names = [...sub.names].sort();
  const list = sub.wildcard ? [wildcardName, ...names] : names;
  if (shared) {
    const entry = known ?? {};
    if (sub.wildcard) entry.wildcard = list;
    else entry.plain = list;
    subscribedLists.set(sub.names, entry);
  }
  return list;
}

/**
 * Whether a subscription's names set can no longer change: only a set one
 * stream holds alone is changed in place (namesAfter), and once another
 * stream shares it, it never is again. What is computed from a fixed set may
 * be remembered by its identity (server/delta-shared-responses.ts).
 */
export function namesFixed(names: ReadonlySet<string>): boolean {
  return !owned.has(names);
}

/** deltaSubscribedNames per names set not owned by one stream (such sets never change again). */
const subscribedLists = new WeakMap<ReadonlySet<string>, { wildcard?: readonly string[]; plain?: readonly string[] }>();
