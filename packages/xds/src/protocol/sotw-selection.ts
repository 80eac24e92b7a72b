import type { EncodedResource } from "../resource/encoded-resource.ts";
import type { SotwSubscription } from "./sotw-subscription.ts";

/** The resources of one type a cache holds for a node, at one version. Immutable. */
export interface TypeResources {
  /** The type's version: SotW's version_info, and Delta's system_version_info. */
  readonly version: string;
  /** The resources, by name. */
  readonly items: ReadonlyMap<string, EncodedResource>;
}

/** What a SotW response for one type carries. */
export interface SotwSelection {
  readonly version: string;
  /** Sorted by name. */
  readonly resources: readonly EncodedResource[];
  /** "*" for the whole set, else the sorted, joined names: a key for sharing encoded bodies. */
  readonly subsetKey: string;
}

const selections = new WeakMap<TypeResources, Map<string, SotwSelection>>();

/**
 * Picks the resources a subscription asks for. Selections are shared: streams
 * with the same subscription on the same resources get the same object, so a
 * fan-out to thousands of streams selects and sorts once, and "unchanged" is an
 * identity check.
 */
export function selectSotw(available: TypeResources, subscription: SotwSubscription): SotwSelection {
  let bySubscription = selections.get(available);
  if (!bySubscription) selections.set(available, (bySubscription = new Map()));
  let selection = bySubscription.get(subscription.key);
  if (!selection) bySubscription.set(subscription.key, (selection = computeSelection(available, subscription)));
  return selection;
}

function computeSelection(available: TypeResources, subscription: SotwSubscription): SotwSelection {
  if (subscription.wildcard) {
    const resources = [...available.items.values()].sort(byName);
    return { version: available.version, resources, subsetKey: "*" };
  }
  const resources: EncodedResource[] = [];
  for (const name of [...subscription.names].sort()) {
    const r = available.items.get(name);
    if (r) resources.push(r);
  }
  return { version: available.version, resources, subsetKey: resources.map((r) => r.name).join("\n") };
}

function byName(a: EncodedResource, b: EncodedResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Whether a selection carries exactly what was last sent on the stream.
 * Decisions are made on content (names and per-resource versions), not on the
 * version the client echoes: comparing versions alone is what makes a control
 * plane resend a NACKed config forever, or never answer a client that asks for
 * a name it was never sent (go-control-plane #431).
 */
export function sameContent(previous: readonly EncodedResource[] | undefined, next: readonly EncodedResource[]): boolean {
  if (previous === next) return true;
  if (!previous || previous.length !== next.length) return false;
  for (let i = 0; i < next.length; i++) {
    const a = previous[i];
    const b = next[i];
    if (!a || !b || a.name !== b.name || a.version !== b.version) return false;
  }
  return true;
}

/**
 * Whether a SotW stream should be sent a response now.
 * - Full-state types (LDS, CDS) answer even with an empty set: absence means
 *   deletion, and Envoy waits for the first response before finishing init.
 * - Other types answer only with something to say: a request for names that do
 *   not exist yet is remembered and answered when they appear (docs/xds-protocol.md).
 * - Never resend an unchanged set just because a request arrived.
 */
export function shouldRespondSotw(options: {
  fullState: boolean;
  selection: SotwSelection;
  lastSent: readonly EncodedResource[] | undefined;
  /** The client asked afresh (first request on the stream for this type). */
  initial: boolean;
}): boolean {
  const { fullState, selection, lastSent, initial } = options;
  if (lastSent === undefined || initial) {
    return fullState || selection.resources.length > 0;
  }
  if (lastSent === selection.resources) return false;
  // Both lists are immutable and usually shared by every stream of a fan-out
  // (selections are): the comparison is made once per pair, not per stream.
  let byNext = carriesChanges.get(lastSent);
  if (!byNext) carriesChanges.set(lastSent, (byNext = new WeakMap()));
  const key = fullState ? selection.resources : nonFullStateKey(selection.resources);
  let answer = byNext.get(key);
  if (answer === undefined) {
    answer = computeShouldRespond(fullState, selection.resources, lastSent);
    byNext.set(key, answer);
  }
  return answer;
}

const carriesChanges = new WeakMap<readonly EncodedResource[], WeakMap<object, boolean>>();
/** A distinct key for the non-full-state answer about a list (the rule differs). */
const nonFullStateKeys = new WeakMap<readonly EncodedResource[], object>();
function nonFullStateKey(resources: readonly EncodedResource[]): object {
  let k = nonFullStateKeys.get(resources);
  if (!k) nonFullStateKeys.set(resources, (k = {}));
  return k;
}

function computeShouldRespond(fullState: boolean, next: readonly EncodedResource[], lastSent: readonly EncodedResource[]): boolean {
  if (sameContent(lastSent, next)) return false;
  // Shrinking a non-full-state set cannot be expressed in SotW (absent EDS/RDS
  // entries are not deletions), so only a set with changes in it is worth sending.
  if (!fullState) {
    const sent = new Map(lastSent.map((r) => [r.name, r.version]));
    if (next.every((r) => sent.get(r.name) === r.version)) return false;
  }
  return true;
}
