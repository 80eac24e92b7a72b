import type { StoreHealth } from "../store/object-store.ts";
import { type NodeStatus, type TypeStatus, TypeUrl, type XdsServerLoad } from "@ts-control-plane/xds";
import { nackedResourceNames } from "./nack-resources.ts";
import type { NodeRefusal } from "./node-refusals.ts";

/** What the report needs of a snapshot (the library's Snapshot satisfies it). */
export interface SnapshotView {
  typeVersion(typeUrl: string): string;
  resources(typeUrl: string): ReadonlyMap<string, unknown>;
}

export type SyncState = "SYNCED" | "STALE" | "NACKED";

export interface TypeReport {
  readonly type: string;
  readonly typeUrl: string;
  readonly state: SyncState;
  /** The version of the current snapshot for this proxy's node group. */
  readonly currentVersion?: string;
  readonly sentVersion?: string;
  readonly ackedVersion?: string;
  readonly sentAt?: string;
  readonly ackedAt?: string;
  readonly responses: number;
  readonly nacks: number;
  /** Envoy's error_detail for the last NACK of this type. */
  readonly nack?: { readonly version: string; readonly nonce: string; readonly message: string; readonly at: string };
  /**
   * Why the latest response for this type could not be delivered (for now
   * `response_too_large`: over the xDS server's maxResponseBytes); the proxy
   * keeps the configuration it has, so the type stays STALE until it clears.
   */
  readonly error?: { readonly code: string; readonly message: string; readonly version: string; readonly at: string };
}

export interface NodeReport {
  readonly nodeId: string;
  readonly cluster: string;
  readonly group: string | null;
  readonly connected: boolean;
  readonly streams: number;
  readonly lastSeen: string;
  /** SYNCED when every type is; NACKED when any type is; STALE otherwise, and always when disconnected. */
  readonly state: SyncState;
  /**
   * Set when the node now matches another node group than the one its stream
   * follows (NodeGroup selectors changed): a stream keeps the group it opened
   * with until the control plane re-keys it (right after the change). Such a node is never SYNCED.
   */
  readonly matchesGroup?: string;
  /** While a rollout runs (issue 11): the revision this proxy is served, the rollout's new one or the one it is held on. */
  readonly revision?: number;
  /**
   * During a reconnect storm (docs/xds-protocol.md § Load limits): "queued"
   * while its stream waits for its turn to sync, "syncing" while its first
   * responses are not answered; absent otherwise.
   */
  readonly initialSync?: "queued" | "syncing";
  /** On PostgreSQL (issue 10 item 4): the replica that serves this proxy (its `--replica-id`, Envoy's `control_plane.identifier`). */
  readonly replica?: string;
  readonly types: readonly TypeReport[];
}

/** On PostgreSQL: the replicas of the fleet and who runs the singleton work (issue 10 items 4 and 5). */
export interface FleetReport {
  /** The replica that answered. */
  readonly replica: string;
  /** Replicas whose lease is live; their proxies are in `nodes`. */
  readonly replicas: readonly { readonly id: string; readonly renewedAt: string; readonly expiresAt: string; readonly proxies: number }[];
  /** Work that runs on one replica, and which one holds it now. */
  readonly singletons: readonly { readonly work: string; readonly replica: string; readonly since: string }[];
}

export interface ObjectReport {
  readonly object: string;
  readonly groups: readonly string[];
  /** Connected proxies whose node group this object contributes to. */
  readonly targets: number;
  /**
   * Of those, the proxies that acknowledged the current version of every type
   * of their group, or whose only NACKs name other objects' resources (Envoy
   * applies the listeners and clusters of an update it rejects in part).
   */
  readonly acknowledged: number;
  /** Set when connected proxies NACKed a response that holds one of this object's Envoy resources. */
  readonly rejected?: ObjectRejection;
}

/** Which proxies rejected an object, and Envoy's words. */
export interface ObjectRejection {
  /** How many proxies. */
  readonly proxies: number;
  readonly nacks: readonly {
    readonly nodeId: string;
    readonly type: string;
    /** Envoy's error_detail.message. */
    readonly message: string;
    /** This object's Envoy resources the message names; empty when `named` is false. */
    readonly resources: readonly string[];
    /**
     * False when Envoy's message named no resource we sent: every object with
     * a resource of that type is marked rejected, since which one Envoy meant is unknown.
     */
    readonly named: boolean;
  }[];
}

export interface StatusReport {
  readonly revision: number;
  readonly nodes: readonly NodeReport[];
  readonly objects: readonly ObjectReport[];
  /** xDS streams refused (mTLS identity not allowed for the node's group), the latest per node id; present when the server records them. */
  readonly refusals?: readonly NodeRefusal[];
  /** The store and how it is doing (issue 10 item 7): why writes are refused while it is unreachable. */
  readonly store?: StoreHealth;
  /** The xDS server's load now (docs/xds-protocol.md § Load limits); present when the server reports it. */
  readonly xds?: XdsLoadReport;
  /** On PostgreSQL: the fleet of replicas whose proxies `nodes` lists. */
  readonly fleet?: FleetReport;
}

/** The xDS server's load in the status report: admission queue, write buffers, stream cap. */
export interface XdsLoadReport {
  readonly openStreams: number;
  /** Streams doing their initial sync now, and streams waiting for their turn (a reconnect storm). */
  readonly syncingStreams: number;
  readonly queuedStreams: number;
  /** Bytes written to streams and not read yet, and streams over their write budget. */
  readonly bufferedBytes: number;
  readonly streamsOverBudget: number;
  /** Since start: stuck streams ended, streams shed over the cap and refused at it. */
  readonly stuckStreamsEnded: number;
  readonly streamsShed: number;
  readonly streamsRefused: number;
  /** The stream cap, when there is one. */
  readonly maxStreams?: number;
}

export interface StatusInputs {
  readonly revision: number;
  /** Every proxy the xDS server knows, from its per-node status record (`XdsServer.status.nodes()`). */
  readonly proxies: readonly NodeStatus[];
  /** The node group whose snapshot the proxy's stream follows. */
  readonly groupOf: (proxy: NodeStatus) => string | undefined;
  /** The node group the proxy matches now; by default the same as groupOf. */
  readonly matchingGroupOf?: (proxy: NodeStatus) => string | undefined;
  readonly snapshotOf: (group: string) => SnapshotView | undefined;
  /**
   * While a rollout runs: the revision a proxy is served and, for a proxy held on an older
   * revision, that revision's snapshot of its group (what it must ACK to be SYNCED).
   */
  readonly rolloutOf?: (proxy: NodeStatus) => { readonly revision: number; readonly snapshot?: SnapshotView | undefined } | undefined;
  /** Refused streams (status/node-refusals.ts), reported as they are. */
  readonly refusals?: readonly NodeRefusal[];
  /** The xDS server's load figures (XdsServer.metrics). */
  readonly xdsLoad?: XdsServerLoad;
  /** On PostgreSQL: the replica serving each proxy (the fleet view); no `replica` field without it. */
  readonly replicaOf?: (proxy: NodeStatus) => string | undefined;
  /**
   * Node groups with the object keys that contributed to them and, to put a
   * NACK on the right object, which objects produced each Envoy resource
   * (typeUrl -> resource name -> objectKeys). Without resourceObjects a NACK
   * marks no object rejected; the node's objects are merely not acknowledged.
   */
  readonly groups: readonly {
    readonly name: string;
    readonly objects: readonly string[];
    readonly resourceObjects?: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  }[];
}

type Nack = ObjectRejection["nacks"][number];

const shortNames: ReadonlyMap<string, string> = new Map([
  [TypeUrl.Cluster, "CDS"],
  [TypeUrl.Endpoint, "EDS"],
  [TypeUrl.Listener, "LDS"],
  [TypeUrl.Route, "RDS"],
  [TypeUrl.ScopedRoute, "SRDS"],
  [TypeUrl.VirtualHost, "VHDS"],
  [TypeUrl.Secret, "SDS"],
  [TypeUrl.Runtime, "RTDS"],
  [TypeUrl.ExtensionConfig, "ECDS"],
]);
const typeOrder = [...shortNames.keys()];

/** CDS, EDS, LDS, ... for a type URL (the type URL itself for one we do not name): how status, logs and waits name a type. */
export const typeShortName = (typeUrl: string): string => shortNames.get(typeUrl) ?? typeUrl;

/**
 * SYNCED = acked version equals what we sent and equals the current snapshot
 * (or the server had nothing newer to send at the current snapshot: TypeStatus.settledVersion);
 * NACKED = the latest response was NACKed, as the xDS server's record says
 * (TypeStatus.nacked: one place decides it, for every stream variant);
 * STALE = anything else, and always for a proxy with no stream open.
 */
export function typeState(t: TypeStatus | undefined, currentVersion: string | undefined, options: { connected?: boolean } = {}): SyncState {
  // A proxy with no stream cannot be known to run anything: what it last acknowledged
  // may be gone (Envoy restarted) and it will not get changes until it reconnects.
  if (options.connected === false) return "STALE";
  if (t?.nacked === true) return "NACKED";
  // The node ACKed what it was last sent, and that is the current version, or the server found
  // nothing newer to send it at the current version (what changed is nothing it asks for: issue 8).
  if (t !== undefined && currentVersion !== undefined && t.ackedVersion === t.sentVersion && (t.sentVersion === currentVersion || t.settledVersion === currentVersion)) {
    return "SYNCED";
  }
  return "STALE";
}

export function buildStatusReport(inputs: StatusInputs): StatusReport {
  const nodes: NodeReport[] = [];
  const syncedByGroup = new Map<string, { targets: number; acknowledged: number }>();
  const groupsByName = new Map(inputs.groups.map((g) => [g.name, g]));
  /** object -> proxy (node id) -> the object's share of that proxy's NACKs. */
  const rejections = new Map<string, Map<string, Nack[]>>();
  /** group -> object -> proxies of the group that acknowledged everything but other objects' rejected resources. */
  const partlyAcked = new Map<string, Map<string, number>>();
  for (const proxy of inputs.proxies) {
    const group = inputs.groupOf(proxy);
    const rollout = inputs.rolloutOf?.(proxy);
    const snapshot = rollout?.snapshot ?? (group === undefined ? undefined : inputs.snapshotOf(group));
    const byType = new Map(proxy.types.map((t) => [t.typeUrl, t]));
    const connected = proxy.streams > 0;
    const typeUrls = new Set<string>(byType.keys());
    if (snapshot !== undefined) for (const url of typeOrder) if (snapshot.resources(url).size > 0) typeUrls.add(url);
    const types: TypeReport[] = [...typeUrls]
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1))
      .map((typeUrl) => {
        const t = byType.get(typeUrl);
        const currentVersion = snapshot?.typeVersion(typeUrl);
        return {
          type: typeShortName(typeUrl),
          typeUrl,
          state: typeState(t, currentVersion, { connected }),
          ...(currentVersion !== undefined ? { currentVersion } : {}),
          ...(t?.sentVersion !== undefined ? { sentVersion: t.sentVersion } : {}),
          ...(t?.ackedVersion !== undefined ? { ackedVersion: t.ackedVersion } : {}),
          ...(t?.sentAt !== undefined ? { sentAt: t.sentAt.toISOString() } : {}),
          ...(t?.ackedAt !== undefined ? { ackedAt: t.ackedAt.toISOString() } : {}),
          responses: t?.responses ?? 0,
          nacks: t?.nacks ?? 0,
          ...(t?.lastNack !== undefined ? { nack: nackReport(t.lastNack) } : {}),
          ...(t?.error !== undefined ? { error: { code: t.error.code, message: t.error.message, version: t.error.version, at: t.error.at.toISOString() } } : {}),
        };
      });
    const matching = inputs.matchingGroupOf?.(proxy) ?? group;
    const replica = inputs.replicaOf?.(proxy);
    const moved = matching !== group;
    const state: SyncState = types.some((t) => t.state === "NACKED")
      ? "NACKED"
      : !moved && types.length > 0 && types.every((t) => t.state === "SYNCED")
        ? "SYNCED"
        : "STALE";
    nodes.push({
      nodeId: proxy.nodeId,
      cluster: proxy.nodeCluster,
      group: group ?? null,
      connected,
      streams: proxy.streams,
      lastSeen: proxy.lastSeenAt.toISOString(),
      state,
      ...(moved && matching !== undefined ? { matchesGroup: matching } : {}),
      ...(rollout !== undefined ? { revision: rollout.revision } : {}),
      ...(connected && proxy.initialSync !== undefined ? { initialSync: proxy.initialSync } : {}),
      ...(replica !== undefined ? { replica } : {}),
      types,
    });
    if (group !== undefined && connected) {
      const counts = syncedByGroup.get(group) ?? { targets: 0, acknowledged: 0 };
      counts.targets++;
      if (state === "SYNCED") counts.acknowledged++;
      syncedByGroup.set(group, counts);
      const resourceObjects = groupsByName.get(group)?.resourceObjects;
      if (state === "NACKED" && !moved && resourceObjects !== undefined) {
        const blamed = blameNacks(proxy.nodeId, types, resourceObjects);
        for (const [object, nacks] of blamed) {
          const byProxy = rejections.get(object) ?? new Map<string, Nack[]>();
          byProxy.set(proxy.nodeId, nacks);
          rejections.set(object, byProxy);
        }
        // The rest of a partly rejected update was applied: other objects count as acknowledged,
        // provided every type is acknowledged or NACKed at the current version.
        const current = types.every((t) => t.state === "SYNCED" || (t.state === "NACKED" && t.sentVersion === t.currentVersion));
        if (current) {
          const acked = partlyAcked.get(group) ?? new Map<string, number>();
          for (const object of groupsByName.get(group)?.objects ?? []) if (!blamed.has(object)) acked.set(object, (acked.get(object) ?? 0) + 1);
          partlyAcked.set(group, acked);
        }
      }
    }
  }
  const objectGroups = new Map<string, string[]>();
  for (const g of inputs.groups) {
    for (const key of g.objects) objectGroups.set(key, [...(objectGroups.get(key) ?? []), g.name]);
  }
  const objects: ObjectReport[] = [...objectGroups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([object, groups]) => {
      let targets = 0;
      let acknowledged = 0;
      for (const g of groups) {
        const c = syncedByGroup.get(g);
        targets += c?.targets ?? 0;
        acknowledged += (c?.acknowledged ?? 0) + (partlyAcked.get(g)?.get(object) ?? 0);
      }
      const byProxy = rejections.get(object);
      if (byProxy === undefined) return { object, groups, targets, acknowledged };
      const nacks = [...byProxy.keys()].sort().flatMap((id) => byProxy.get(id) ?? []);
      return { object, groups, targets, acknowledged, rejected: { proxies: byProxy.size, nacks } };
    });
  return {
    revision: inputs.revision,
    nodes,
    objects,
    ...(inputs.refusals === undefined ? {} : { refusals: inputs.refusals }),
    ...(inputs.xdsLoad === undefined ? {} : { xds: loadReport(inputs.xdsLoad) }),
  };
}

function loadReport(l: XdsServerLoad): XdsLoadReport {
  const { openStreams, syncingStreams, queuedStreams, bufferedBytes, streamsOverBudget, stuckStreamsEnded, streamsShed, streamsRefused, maxStreams } = l;
  return { openStreams, syncingStreams, queuedStreams, bufferedBytes, streamsOverBudget, stuckStreamsEnded, streamsShed, streamsRefused, ...(maxStreams === undefined ? {} : { maxStreams }) };
}

/**
 * The objects a node's NACKs point at: those that produced a resource Envoy's
 * message names or, when it names none we sent, every object with a resource
 * of the NACKed type (said with `named: false`).
 */
function blameNacks(nodeId: string, types: readonly TypeReport[], resourceObjects: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>): Map<string, Nack[]> {
  const blamed = new Map<string, Nack[]>();
  for (const t of types) {
    if (t.state !== "NACKED" || t.nack === undefined) continue;
    const byName = resourceObjects.get(t.typeUrl) ?? new Map<string, readonly string[]>();
    const names = nackedResourceNames(t.nack.message, byName.keys());
    const named = names.length > 0;
    const perObject = new Map<string, string[]>();
    for (const name of named ? names : [...byName.keys()]) {
      for (const object of byName.get(name) ?? []) perObject.set(object, [...(perObject.get(object) ?? []), name]);
    }
    for (const [object, resources] of perObject) {
      const nack: Nack = { nodeId, type: t.type, message: t.nack.message, resources: named ? resources.sort() : [], named };
      blamed.set(object, [...(blamed.get(object) ?? []), nack]);
    }
  }
  return blamed;
}

/** The fields the admin API has always shown (the record also keeps Envoy's gRPC code). */
function nackReport(nack: NonNullable<TypeStatus["lastNack"]>): NonNullable<TypeReport["nack"]> {
  return { version: nack.version, nonce: nack.nonce, message: nack.message, at: nack.at.toISOString() };
}

function rank(typeUrl: string): number {
  const i = typeOrder.indexOf(typeUrl as (typeof typeOrder)[number]);
  return i < 0 ? typeOrder.length : i;
}
