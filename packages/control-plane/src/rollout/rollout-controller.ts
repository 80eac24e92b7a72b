import type { NodeStatus } from "@ts-control-plane/xds";
import { waitForChange } from "../reconciler/change-waiter.ts";
import type { ChangeOutcome, ChangeRequest, NodeIdentity, Reconciler } from "../reconciler/reconciler.ts";
import { pinnedKey, UNMATCHED_GROUP } from "../reconciler/reconciler.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { TrafficCounts, TrafficSink } from "../status/traffic-sink.ts";
import { rollbackChange } from "../store/rollback-change.ts";
import { groupOfKey, revisionForNode } from "./node-revision.ts";
import { stagePlan } from "./stage-plan.ts";
import { isRunning, type Rollout, RolloutError, RolloutErrorCode, type RolloutSpec } from "./rollout.ts";
import { defaultMax5xxIncrease, defaultMaxConnectFailIncrease, defaultMinRequests } from "./rollout-spec.ts";
import { trafficVerdict } from "./traffic-verdict.ts";

export interface RolloutControllerOptions {
  readonly store: ObjectStore;
  readonly reconciler: Reconciler;
  /** The xDS server's per-node record (XdsServer.status.nodes()). */
  readonly proxies: () => readonly NodeStatus[];
  /** Subscribes to ACK / NACK / stream-closed events; returns the unsubscribe. */
  readonly onStatusChange: (listener: () => void) => () => void;
  /** Moves connected streams to the key keyOf now gives them (XdsServer.rekey). */
  readonly rekey: () => void;
  readonly log: (line: string, fields?: { level?: "info" | "warn" | "error" }) => void;
  readonly now?: () => number;
  /** The counters Envoy pushes over the metrics service: with it, a bake is judged by the canary's 5xx share too. */
  readonly traffic?: TrafficSink;
}

export interface RolloutApplyResult {
  readonly outcome: ChangeOutcome;
  /** Set when the change was stored: the rollout that now serves it to the canary. */
  readonly rollout?: Rollout;
}

export interface RolloutController {
  /** Takes up a rollout a previous run left running (its stage, the remaining bake); call before xDS is served. */
  resume(): Promise<void>;
  /** The snapshot cache key of a node: its group's, or the pinned one of the revision it is held on. */
  keyOf(node: NodeIdentity): string;
  /** Applies a change as a rollout: stored as a new revision, served to the canary only. */
  apply(request: ChangeRequest, spec: RolloutSpec): Promise<RolloutApplyResult>;
  /** The running rollout, else the latest one; undefined when there never was one. */
  latest(): Rollout | undefined;
  list(options?: { limit?: number }): Rollout[];
  /** Whether changes must wait: a rollout holds proxies on two revisions. */
  running(): boolean;
  /** Called each time `running()` turns false (a rollout ended, or one that was being started was not); returns the unsubscribe. */
  onIdle(listener: () => void): () => void;
  /** The revision a connected proxy is served while a rollout runs (status), from its stream's cache key. */
  servedRevisionOf(cacheKey: string): number | undefined;
  promote(by: string): Promise<Rollout>;
  abort(by: string): Promise<Rollout>;
  close(): void;
}

/**
 * Runs rollouts (issue 11): holds every proxy but the canary on the previous
 * revision, judges the canary by its ACKs and NACKs, bakes, then promotes (or
 * waits for `tcp rollout promote`); a NACK, an ACK deadline or an abort puts
 * the canary back at once and stores a rollback revision, so the stored
 * revision is again what the whole fleet runs.
 */
export function createRolloutController(options: RolloutControllerOptions): RolloutController {
  const { store, reconciler, log } = options;
  const now = options.now ?? Date.now;
  let active: Rollout | undefined;
  /** Every proxy on this revision: while a rollout's change is committed, and while a failed canary is put back. */
  let hold: number | undefined;
  let bakeTimer: NodeJS.Timeout | undefined;
  let judging: { cancel: () => void } | undefined;
  let trafficWatch: (() => void) | undefined;
  let closed = false;
  const idleListeners = new Set<() => void>();
  const isIdle = (): boolean => !isRunning(active) && hold === undefined;
  /**
   * Tells the listeners (watched files waiting: file-sources.ts) when a transition left no rollout
   * running; also after an apply that never started one, since it held changes while it judged.
   */
  const afterTransition = (): void => {
    if (!isIdle() || closed) return;
    for (const l of idleListeners) l();
  };
  /** One transition at a time: a NACK and a promote cannot interleave. */
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const step = async (): Promise<T> => {
      try {
        return await fn();
      } finally {
        afterTransition();
      }
    };
    const run = queue.then(step, step);
    queue = run.catch(() => {});
    return run;
  };

  const save = (rollout: Rollout): Rollout => {
    // Not awaited: the transitions stay synchronous. Writes are applied in call order by both
    // stores (SQLite at once, PostgreSQL one after another), so the newest record is the last written.
    store.saveRollout({ id: rollout.id, body: JSON.stringify(rollout) }).catch((error: unknown) => {
      log(`rollout ${rollout.id}: its record could not be saved: ${error instanceof Error ? error.message : String(error)}`, { level: "error" });
    });
    return rollout;
  };
  const parse = (body: string): Rollout => JSON.parse(body) as Rollout;
  const pinnedRevision = (): number | undefined => reconciler.pinned()?.revision;

  const stopTimers = (): void => {
    if (bakeTimer !== undefined) clearTimeout(bakeTimer);
    bakeTimer = undefined;
    judging?.cancel();
    judging = undefined;
    trafficWatch?.();
    trafficWatch = undefined;
  };

  /**
   * During the bake, compares the canary's share of 5xx answers with that of the proxies
   * still on the previous revision, counted from the bake's start (issue 11 item 2).
   */
  function watchTraffic(rollout: Rollout): void {
    const sink = options.traffic;
    if (sink === undefined) return;
    const start = new Map<string, TrafficCounts>();
    const zero: TrafficCounts = { requests: 0, errors5xx: 0, connects: 0, connectFailures: 0 };
    const fields = ["requests", "errors5xx", "connects", "connectFailures"] as const;
    const since = (id: string): TrafficCounts => {
      const now = sink.counts(id) ?? zero;
      const from = start.get(id);
      // First seen, or counters reset (the Envoy restarted): count from here.
      if (from === undefined || fields.some((f) => now[f] < from[f])) {
        start.set(id, now);
        return zero;
      }
      return { requests: now.requests - from.requests, errors5xx: now.errors5xx - from.errors5xx, connects: now.connects - from.connects, connectFailures: now.connectFailures - from.connectFailures };
    };
    const sum = (ids: readonly string[]): TrafficCounts =>
      ids.map(since).reduce((a, b) => ({ requests: a.requests + b.requests, errors5xx: a.errors5xx + b.errors5xx, connects: a.connects + b.connects, connectFailures: a.connectFailures + b.connectFailures }), zero);
    const canary = new Set(rollout.canaryNodes);
    for (const id of sink.nodes()) since(id);
    // Records stored before traffic judging existed lack the thresholds.
    const max5xxIncrease = rollout.max5xxIncrease ?? defaultMax5xxIncrease;
    const minRequests = rollout.minRequests ?? defaultMinRequests;
    const maxConnectFailIncrease = rollout.maxConnectFailIncrease ?? defaultMaxConnectFailIncrease;
    trafficWatch = sink.onUpdate(() => {
      if (active?.id !== rollout.id || active.state !== "baking") return;
      const ids = sink.nodes();
      const figures = { canary: sum(ids.filter((id) => canary.has(id))), baseline: sum(ids.filter((id) => !canary.has(id))), updatedAt: new Date(now()).toISOString() };
      // Shown by status and the dashboard; saved with the next transition (not on every push).
      active = { ...active, traffic: figures };
      const reason = trafficVerdict({
        canary: figures.canary,
        baseline: figures.baseline,
        max5xxIncrease,
        maxConnectFailIncrease,
        minRequests,
        fromRevision: rollout.fromRevision,
      });
      if (reason === undefined) return;
      trafficWatch?.();
      trafficWatch = undefined;
      void serial(() => rollBack(rollout.id, "failed", reason));
    });
  }

  const groupOfProxy = (p: NodeStatus): string => groupOfKey(p.cacheKey, pinnedRevision()).group;
  const isCanaryProxy = (rollout: Rollout, p: NodeStatus): boolean => revisionForNode({ rollout, hold: undefined, node: { id: p.nodeId, group: groupOfProxy(p) } }) === undefined;

  /** Waits for the canary's ACKs of the new revision; a NACK or the deadline fails the stage. */
  function judge(rollout: Rollout, deadlineMs: number): void {
    const before = reconciler.pinned()?.snapshots ?? new Map();
    let cancelled = false;
    judging = { cancel: () => (cancelled = true) };
    void waitForChange({
      before,
      after: reconciler.state().snapshots,
      current: () => reconciler.state().snapshots,
      proxies: () => options.proxies().filter((p) => isCanaryProxy(rollout, p)),
      onStatusChange: options.onStatusChange,
      timeoutMs: deadlineMs,
      startedAt: now(),
      now,
      pollMs: 100,
      stopAtNack: true,
    }).then((report) => {
      if (cancelled || closed) return;
      judging = undefined;
      const bad = report.nodes.filter((n) => n.result !== "acked");
      if (bad.length === 0) {
        void serial(async () => startBake(rollout.id));
        return;
      }
      const nack = bad.find((n) => n.result === "nacked");
      const reason =
        nack !== undefined
          ? `canary proxy ${nack.node} NACKed revision ${rollout.toRevision}: ${nack.message ?? ""}`
          : `canary proxy ${bad.map((n) => `${n.node} (${n.result}: ${n.message ?? "no answer"})`).join(", ")} did not ACK revision ${rollout.toRevision} within ${rollout.ackTimeoutMs} ms`;
      void serial(() => rollBack(rollout.id, "failed", reason));
    });
  }

  /**
   * After a restart: waits for every canary proxy to reconnect, then judges with what is left of
   * the ACK deadline; a canary proxy not back by then fails the stage (judging without it would
   * pass a canary nobody ran).
   */
  function judgeWhenBack(rollout: Rollout): void {
    const startedAt = now();
    const check = (): void => {
      if (closed || active?.id !== rollout.id || active.state !== "canary") {
        stop();
        return;
      }
      const connected = new Set(options.proxies().filter((p) => p.streams > 0).map((p) => p.nodeId));
      const missing = rollout.canaryNodes.filter((id) => !connected.has(id));
      const waited = now() - startedAt;
      if (missing.length === 0) {
        stop();
        judge(rollout, Math.max(1, rollout.ackTimeoutMs - waited));
      } else if (waited >= rollout.ackTimeoutMs) {
        stop();
        void serial(() => rollBack(rollout.id, "failed", `canary proxy ${missing.join(", ")} did not reconnect within ${rollout.ackTimeoutMs} ms after the control plane restarted`));
      }
    };
    // Opening a stream is no status event: polled, every 100 ms, until the deadline.
    const poll = setInterval(check, 100);
    poll.unref();
    const stop = (): void => clearInterval(poll);
    judging = { cancel: stop };
  }

  async function startBake(id: number): Promise<void> {
    if (active?.id !== id || active.state !== "canary") return;
    const canary = options.proxies().filter((p) => p.streams > 0 && isCanaryProxy(active as Rollout, p)).map((p) => p.nodeId);
    active = save({ ...active, state: "baking", bakeEndsAt: new Date(now() + active.bakeMs).toISOString() });
    log(`rollout ${id}: the canary (${canary.length === 0 ? "no connected proxy" : canary.join(", ")}) ACKed revision ${active.toRevision}; baking for ${active.bakeMs} ms`);
    scheduleBakeEnd(active);
    watchTraffic(active);
  }

  function scheduleBakeEnd(rollout: Rollout): void {
    const remaining = Math.max(0, Date.parse(rollout.bakeEndsAt ?? "") - now());
    bakeTimer = setTimeout(() => {
      bakeTimer = undefined;
      void serial(async () => {
        if (active?.id !== rollout.id || active.state !== "baking") return;
        if (active.manualPromote) {
          active = save({ ...active, state: "awaiting-promote" });
          log(`rollout ${rollout.id}: baked; waiting for \`tcp rollout promote\``);
          return;
        }
        await advance("automatic promotion after the bake");
      });
    }, remaining);
    bakeTimer.unref();
  }

  /**
   * One stage on: the next stage's canary (which holds this one's proxies) gets the new revision
   * and is judged and baked alike; after the last stage, every proxy.
   */
  async function advance(why: string): Promise<Rollout> {
    const rollout = active;
    if (!isRunning(rollout)) throw new RolloutError(RolloutErrorCode.NotRunning, "no rollout is running");
    const stage = rollout.stage ?? 0;
    const next = rollout.stages?.[stage + 1];
    if (next === undefined) return finish(why);
    stopTimers();
    const { bakeEndsAt: _, traffic: __, ...rest } = rollout;
    active = save({ ...rest, state: "canary", stage: stage + 1, canaryNodes: next });
    options.rekey();
    log(`rollout ${rollout.id}: stage ${stage + 1} passed (${why}); stage ${stage + 2} of ${rollout.stages?.length ?? 1}: revision ${rollout.toRevision} goes to ${next.length === 0 ? "no connected proxy" : next.join(", ")}`);
    judge(active, active.ackTimeoutMs);
    return active;
  }

  /** Every proxy to the new revision. */
  async function finish(why: string): Promise<Rollout> {
    const rollout = active;
    if (!isRunning(rollout)) throw new RolloutError(RolloutErrorCode.NotRunning, "no rollout is running");
    stopTimers();
    const done = save({ ...rollout, state: "succeeded", endedAt: new Date(now()).toISOString() });
    active = undefined;
    options.rekey();
    await reconciler.pin(undefined);
    log(`rollout ${rollout.id}: promoted (${why}); every proxy now runs revision ${rollout.toRevision}`);
    return done;
  }

  /** Puts the canary back on the previous revision at once, then stores a rollback revision, so the store says what the fleet runs. */
  async function rollBack(id: number, state: "failed" | "aborted", reason: string): Promise<Rollout> {
    const rollout = active;
    if (!isRunning(rollout) || rollout.id !== id) throw new RolloutError(RolloutErrorCode.NotRunning, "no rollout is running");
    stopTimers();
    hold = rollout.fromRevision;
    options.rekey();
    log(`rollout ${id} ${state}: ${reason}; the canary is back on revision ${rollout.fromRevision}`, { level: "warn" });
    let rollbackRevision: number | undefined;
    let note = "";
    try {
      const change = rollbackChange(store, rollout.fromRevision, { source: `rollout:${id}` });
      const outcome = await reconciler.change({ ...change, summary: `rollout ${id} ${state}: back to revision ${rollout.fromRevision}` });
      if (outcome.accepted) {
        rollbackRevision = outcome.revision?.revision;
        await reconciler.flush();
      } else {
        note = `; the rollback revision was refused (${outcome.diagnostics.map((d) => d.message).join("; ")}): every proxy stays on revision ${rollout.fromRevision}, roll back by hand`;
      }
    } catch (error) {
      note = `; the rollback revision could not be stored (${error instanceof Error ? error.message : String(error)}): every proxy stays on revision ${rollout.fromRevision}, roll back by hand`;
    }
    const ended = save({
      ...rollout,
      state,
      reason: reason + note,
      endedAt: new Date(now()).toISOString(),
      ...(rollbackRevision !== undefined ? { rollbackRevision } : {}),
    });
    active = undefined;
    if (rollbackRevision !== undefined) {
      // The stored revision now has the previous revision's objects: same versions, nothing new for any proxy.
      hold = undefined;
      options.rekey();
      await reconciler.pin(undefined);
      log(`rollout ${id}: revision ${rollbackRevision} put the stored objects back to revision ${rollout.fromRevision}`);
    }
    return ended;
  }

  /** Takes up the stored rollout a previous run left running (resume). */
  async function takeUp(): Promise<void> {
    const [latest] = store.rollouts({ limit: 1 });
    if (latest === undefined) return;
    const rollout = parse(latest.body);
    if (!isRunning(rollout)) return;
    if (rollout.toRevision !== store.currentRevision()) {
      // Someone changed the store since (another control plane, a restore): this rollout no longer describes it.
      active = undefined;
      save({ ...rollout, state: "aborted", reason: `the stored revision is ${store.currentRevision()}, not the rollout's ${rollout.toRevision}, after a restart`, endedAt: new Date(now()).toISOString() });
      log(`rollout ${rollout.id}: dropped after a restart: the stored revision moved on to ${store.currentRevision()}`, { level: "warn" });
      return;
    }
    await reconciler.pin(rollout.fromRevision);
    active = rollout;
    log(`rollout ${rollout.id}: resumed in stage ${rollout.state} (canary ${JSON.stringify(rollout.canary)}, revision ${rollout.fromRevision} -> ${rollout.toRevision})`);
    if (rollout.state === "baking") {
      scheduleBakeEnd(rollout);
      watchTraffic(rollout);
    }
    // A stage still judging starts over once the canary proxies are back, within one ACK deadline.
    else if (rollout.state === "canary") judgeWhenBack(rollout);
  }

  const connectedProxies = (): { id: string; group: string }[] => options.proxies().filter((p) => p.streams > 0).map((p) => ({ id: p.nodeId, group: groupOfProxy(p) }));

  return {
    async resume() {
      try {
        await takeUp();
      } finally {
        // Watched-file changes held at startup for a stored rollout that is no longer running.
        afterTransition();
      }
    },
    keyOf(node) {
      const group = reconciler.nodeGroupOf(node);
      if (group === UNMATCHED_GROUP) return group;
      const revision = revisionForNode({ rollout: active, hold, node: { id: node.id, group } });
      // A revision held but not pinned (yet) would leave the proxy with nothing: it stays on its group.
      return revision !== undefined && revision === pinnedRevision() ? pinnedKey(group, revision) : group;
    },
    apply(request, spec) {
      return serial(async () => {
        if (isRunning(active)) throw new RolloutError(RolloutErrorCode.Running, `rollout ${active.id} is running (${active.state}): promote or abort it first (tcp rollout promote|abort)`);
        if (request.dryRun === true) return { outcome: await reconciler.change(request) };
        await reconciler.flush();
        const from = store.currentRevision();
        // Everyone stays on `from` while the change is judged and committed: the push after the commit must reach no proxy yet.
        // Held from here, watched-file changes wait too (file-sources.ts hold), so none slips in before the commit.
        await reconciler.pin(from);
        hold = from;
        options.rekey();
        let outcome: ChangeOutcome;
        let record: Rollout;
        try {
          // The canary is chosen before the commit, from the node groups the change alters, so the
          // rollout record can be written in the revision's own transaction: a crash in between
          // would otherwise leave a revision no rollout holds back, served to all on restart.
          const diff = await reconciler.diff(request);
          const stages = stagePlan({ canary: spec.canary, proxies: connectedProxies(), changedGroups: new Set(diff.groups.map((g) => g.group)) });
          const to = from + 1;
          record = {
            ...spec,
            id: to,
            fromRevision: from,
            toRevision: to,
            source: request.source,
            state: "canary",
            canaryNodes: stages[0] ?? [],
            ...(stages.length > 1 ? { stages, stage: 0 } : {}),
            startedAt: new Date(now()).toISOString(),
          };
          outcome = await reconciler.change({ ...request, rollout: { id: to, body: JSON.stringify(record) } });
        } catch (error) {
          hold = undefined;
          options.rekey();
          await reconciler.pin(undefined);
          throw error;
        }
        if (!outcome.accepted || !outcome.changed || outcome.revision === undefined) {
          hold = undefined;
          options.rekey();
          await reconciler.pin(undefined);
          return { outcome };
        }
        await reconciler.flush();
        active = record;
        hold = undefined;
        options.rekey();
        const stageCount = record.stages?.length ?? 1;
        log(`rollout ${record.id}: revision ${record.id} goes to the canary (${record.canaryNodes.length === 0 ? "no connected proxy" : record.canaryNodes.join(", ")})${stageCount > 1 ? `, stage 1 of ${stageCount}` : ""}; every other proxy stays on revision ${from}`);
        judge(active, spec.ackTimeoutMs);
        return { outcome, rollout: active };
      });
    },
    latest() {
      if (active !== undefined) return active;
      const [row] = store.rollouts({ limit: 1 });
      return row === undefined ? undefined : parse(row.body);
    },
    list: (opts = {}) => store.rollouts(opts).map((r) => parse(r.body)),
    running: () => !isIdle(),
    onIdle(listener) {
      idleListeners.add(listener);
      return () => idleListeners.delete(listener);
    },
    servedRevisionOf(cacheKey) {
      if (!isRunning(active)) return undefined;
      return groupOfKey(cacheKey, pinnedRevision()).revision ?? active.toRevision;
    },
    promote(by) {
      return serial(() => advance(`promoted by ${by}`));
    },
    abort(by) {
      return serial(async () => {
        if (!isRunning(active)) throw new RolloutError(RolloutErrorCode.NotRunning, "no rollout is running to abort");
        return rollBack(active.id, "aborted", `aborted by ${by}`);
      });
    },
    close() {
      closed = true;
      stopTimers();
    },
  };
}
