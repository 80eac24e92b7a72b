import type { NodeStatus, Snapshot } from "@ts-control-plane/xds";
import { typeShortName } from "../status/status-report.ts";
import { diffSnapshots } from "./diff-snapshots.ts";

/** How one proxy took a change: `disconnected` means its last stream closed before it answered. */
export type NodeWaitOutcome = "acked" | "nacked" | "timeout" | "disconnected";

/** One targeted proxy's answer to a change (`tcp apply --wait`, `?wait=`). */
export interface NodeWaitResult {
  readonly node: string;
  readonly group: string;
  readonly result: NodeWaitOutcome;
  /** Envoy's NACK message, or what is still missing on timeout. */
  readonly message?: string;
  /** From the change's commit to the proxy's last ACK of the change's versions. */
  readonly ackedAfterMs?: number;
  /** The xDS types (CDS, LDS, ...) the change brought this proxy. */
  readonly types: readonly string[];
}

export interface ChangeWaitReport {
  /** True when every targeted proxy ACKed (also when none was targeted). */
  readonly live: boolean;
  /** Connected proxies whose configuration the change altered. */
  readonly targets: number;
  readonly timeoutMs: number;
  readonly elapsedMs: number;
  readonly nodes: readonly NodeWaitResult[];
}

export interface WaitForChangeOptions {
  /** Per node group, the snapshots before the change and once it was pushed. */
  readonly before: ReadonlyMap<string, Snapshot>;
  readonly after: ReadonlyMap<string, Snapshot>;
  /** What the snapshots are now: a later change supersedes this one's versions (its ACK counts too). */
  readonly current: () => ReadonlyMap<string, Snapshot>;
  /** The xDS server's one per-node record (XdsServer.status): nothing here keeps a second copy of ACKs. */
  readonly proxies: () => readonly NodeStatus[];
  /** Subscribes to "the per-node record changed" (ACK, NACK, stream closed); returns the unsubscribe. */
  readonly onStatusChange: (listener: () => void) => () => void;
  readonly timeoutMs: number;
  /** When the change was committed (ms, `now()`'s clock). */
  readonly startedAt: number;
  readonly now?: () => number;
  /** Re-reads the record this often too, should a notification be missed; 250 ms by default. */
  readonly pollMs?: number;
  /** Answer at the first NACK instead of waiting for every proxy: a rollout's canary fails then (issue 11). */
  readonly stopAtNack?: boolean;
}

const short = typeShortName;

/** group -> typeUrl -> resource names the change added, changed or removed. */
type Changed = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

function changedByGroup(before: ReadonlyMap<string, Snapshot>, after: ReadonlyMap<string, Snapshot>): Changed {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const g of diffSnapshots(before, after)) {
    const byType = new Map<string, Set<string>>();
    for (const r of g.resources) byType.set(r.typeUrl, (byType.get(r.typeUrl) ?? new Set()).add(r.name));
    out.set(g.group, byType);
  }
  return out;
}

/**
 * The types of a change a proxy will be sent: it subscribes to the type by
 * wildcard or names one of the changed resources. A type it does not ask for
 * gets no response, and waiting for its ACK would only time out.
 */
function typesFor(proxy: NodeStatus, changed: ReadonlyMap<string, ReadonlySet<string>> | undefined): string[] {
  if (changed === undefined) return [];
  const out: string[] = [];
  for (const t of proxy.types) {
    const names = changed.get(t.typeUrl);
    if (names === undefined) continue;
    if (t.subscribed.includes("*") || t.subscribed.some((n) => names.has(n))) out.push(t.typeUrl);
  }
  return out;
}

type Verdict = { readonly state: "acked"; readonly at: number } | { readonly state: "nacked"; readonly message: string } | { readonly state: "pending"; readonly why: string };

/** One proxy against the versions this change produced (or newer ones of the current snapshot). */
function judgeProxy(
  proxy: NodeStatus,
  typeUrls: readonly string[],
  changed: ReadonlyMap<string, ReadonlySet<string>> | undefined,
  target: Snapshot | undefined,
  current: Snapshot | undefined,
): Verdict {
  let at = 0;
  const pending: string[] = [];
  for (const typeUrl of typeUrls) {
    const wanted = new Set([target?.typeVersion(typeUrl), current?.typeVersion(typeUrl)].filter((v): v is string => v !== undefined));
    const t = proxy.types.find((x) => x.typeUrl === typeUrl);
    // The proxy no longer asks for anything the change touched (the EDS of a cluster the change removed):
    // nothing is left to send it for this type, so there is nothing to wait for.
    const names = changed?.get(typeUrl);
    if (t !== undefined && names !== undefined && !t.subscribed.includes("*") && !t.subscribed.some((n) => names.has(n))) continue;
    if (t?.ackedVersion !== undefined && wanted.has(t.ackedVersion)) {
      at = Math.max(at, t.ackedAt?.getTime() ?? 0);
      continue;
    }
    if (t?.nacked === true && t.lastNack !== undefined && wanted.has(t.lastNack.version)) return { state: "nacked", message: `${short(typeUrl)}: ${t.lastNack.message}` };
    if (t?.error !== undefined) pending.push(`${short(typeUrl)} not sent: ${t.error.message}`);
    else if (t?.sentVersion !== undefined && wanted.has(t.sentVersion)) pending.push(`${short(typeUrl)} sent, never acknowledged`);
    else pending.push(`${short(typeUrl)} not sent yet`);
  }
  return pending.length === 0 ? { state: "acked", at } : { state: "pending", why: pending.join("; ") };
}

/**
 * Waits until every connected proxy a change targets (its node group's
 * resources changed, and it subscribes to them) has ACKed the versions the
 * change produced, or NACKed them, or `timeoutMs` passed: `tcp apply --wait`
 * and `?wait=` of the admin API (issue 9, "is my change live?").
 * Reads the xDS server's per-node status record; keeps no ACK bookkeeping of its own.
 */
export function waitForChange(options: WaitForChangeOptions): Promise<ChangeWaitReport> {
  const now = options.now ?? Date.now;
  const changed = changedByGroup(options.before, options.after);
  const targets = new Map<string, { group: string; types: Set<string> }>();
  for (const p of options.proxies()) {
    if (p.streams === 0) continue;
    const types = typesFor(p, changed.get(p.cacheKey));
    if (types.length > 0) targets.set(p.nodeId, { group: p.cacheKey, types: new Set(types) });
  }
  const decided = new Map<string, NodeWaitResult>();
  const lastWhy = new Map<string, string>();

  const evaluate = (): boolean => {
    const byId = new Map(options.proxies().map((p) => [p.nodeId, p]));
    const current = options.current();
    for (const [id, target] of targets) {
      if (decided.has(id)) continue;
      const proxy = byId.get(id);
      const types = () => [...target.types].map(short);
      if (proxy === undefined || proxy.streams === 0 || proxy.cacheKey !== target.group) {
        const message = proxy !== undefined && proxy.streams > 0 ? `moved to node group ${proxy.cacheKey} before acknowledging` : "disconnected before acknowledging";
        decided.set(id, { node: id, group: target.group, result: "disconnected", message, types: types() });
        continue;
      }
      // A type the proxy subscribes to only after this change (EDS of a new cluster) joins the wait.
      for (const t of typesFor(proxy, changed.get(target.group))) target.types.add(t);
      const verdict = judgeProxy(proxy, [...target.types], changed.get(target.group), options.after.get(target.group), current.get(target.group));
      if (verdict.state === "acked") decided.set(id, { node: id, group: target.group, result: "acked", ackedAfterMs: Math.max(0, verdict.at - options.startedAt), types: types() });
      else if (verdict.state === "nacked") decided.set(id, { node: id, group: target.group, result: "nacked", message: verdict.message, types: types() });
      else lastWhy.set(id, verdict.why);
    }
    if (options.stopAtNack === true && [...decided.values()].some((d) => d.result === "nacked")) return true;
    return decided.size === targets.size;
  };

  const report = (): ChangeWaitReport => {
    const nodes = [...targets].map(
      ([id, target]): NodeWaitResult =>
        decided.get(id) ?? { node: id, group: target.group, result: "timeout", message: lastWhy.get(id) ?? "no answer", types: [...target.types].map(short) },
    );
    nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return { live: nodes.every((n) => n.result === "acked"), targets: targets.size, timeoutMs: options.timeoutMs, elapsedMs: Math.max(0, now() - options.startedAt), nodes };
  };

  if (evaluate()) return Promise.resolve(report());
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe();
      clearInterval(poll);
      clearTimeout(timer);
      resolve(report());
    };
    const check = () => {
      if (evaluate()) finish();
    };
    const unsubscribe = options.onStatusChange(check);
    // Unref'd: a pending wait must not keep a stopping control plane alive.
    const poll = setInterval(check, options.pollMs ?? 250).unref();
    const timer = setTimeout(() => {
      evaluate();
      finish();
    }, Math.max(0, options.startedAt + options.timeoutMs - now())).unref();
  });
}
