import { createSnapshot, encodeSnapshotResource, type Snapshot, type SnapshotCache } from "@ts-control-plane/xds";
import { createCompiler, matchNodeGroup, type CompileOptions, type CompileResult, type Compiler, type NodeGroupConfig } from "../compile.ts";
import type { Diagnostic, ModelObject } from "../model/model-object.ts";
import { certificateTimeCodes } from "../model/pem.ts";
import { runSliced, type Steps } from "../model/time-slice.ts";
import { setImmediate } from "node:timers/promises";
import type { ChangePreview, ChangeSet, CommitResult, ObjectStore, RevisionChange, RevisionInfo, StoredRollout } from "../store/object-store.ts";
import { rollbackChange } from "../store/rollback-change.ts";
import { diffSnapshots, type GroupDiff } from "./diff-snapshots.ts";
import { oneLineLog } from "../log/one-line.ts";
import { changeIdOf } from "../log/change-id.ts";
import type { LogFields } from "../log/logger.ts";
import type { ReconcileMetrics } from "./reconcile-metrics.ts";

/**
 * The cache key under which `pin` holds a node group's snapshot of an older revision, for the
 * proxies a rollout keeps on it (issue 11; rollout/node-revision.ts decides who those are).
 */
export const pinnedKey = (group: string, revision: number): string => `${group}@r${revision}`;

/** The cache key of a node that matches no node group: it gets no snapshot, so its requests wait. */
export const UNMATCHED_GROUP = "(unmatched)";

export interface ChangeRequest extends ChangeSet {
  /** Validate and report, write nothing. */
  readonly dryRun?: boolean;
  /** Stored with the revision, in its transaction (CommitOptions.rollout): the change starts this rollout. */
  readonly rollout?: StoredRollout;
}

export interface ChangeOutcome {
  /** False when the change was refused: nothing was stored or pushed. */
  readonly accepted: boolean;
  readonly dryRun: boolean;
  /** False when the change equals what is stored (no new revision). */
  readonly changed: boolean;
  readonly revision?: RevisionInfo;
  readonly changes: readonly RevisionChange[];
  /** Why it was refused (errors), plus warnings about the candidate objects. */
  readonly diagnostics: readonly Diagnostic[];
  /** Object keys the change would have broken. */
  readonly rejected: readonly string[];
}

export interface DiffOutcome {
  readonly accepted: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly rejected: readonly string[];
  readonly changes: readonly RevisionChange[];
  readonly groups: readonly GroupDiff[];
}

export interface PushedState {
  readonly revision: number;
  readonly groups: readonly NodeGroupConfig[];
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  readonly rejected: readonly string[];
}

export interface ReconcilerOptions {
  readonly store: ObjectStore;
  readonly cache: SnapshotCache;
  /** Quiet time before a change set is compiled and pushed; 50 ms by default. */
  readonly debounceMs?: number;
  /** One call per event; `fields.changeId` ties the push to the change (log/change-id.ts). */
  readonly log?: (line: string, fields?: LogFields) => void;
  /**
   * Called after a push that changed node groups (added, removed, other
   * selectors or identities): connected nodes may now belong to another group,
   * or no longer be allowed in theirs, so the xDS server should re-key (and
   * re-authorize) its streams.
   */
  readonly onGroupsChanged?: () => void;
  /** Operator settings of the translation (compile.ts). */
  readonly compile?: CompileOptions;
  /** Compile, store and push timings (admin/control-plane-metrics.ts); none by default. */
  readonly metrics?: ReconcileMetrics;
}

export interface NodeIdentity {
  readonly id: string;
  readonly cluster: string;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

export interface Reconciler {
  /** Compiles the stored objects and sets every group's snapshot; call before serving xDS. */
  start(): Promise<void>;
  /**
   * Validates a change against the current objects and stores it when nothing breaks.
   * Changes are queued and judged one at a time; the judging (compile, encoding) gives
   * the event loop a turn every few milliseconds, so a 20,000-object apply does not stall
   * xDS streams or /healthz (issue 14). What was judged is what is committed: the commit
   * checks, inside the store's write transaction, that no other writer committed since,
   * and judges again there if one did.
   *
   * A function is called when the change's turn comes, for a change worked out from the stored
   * objects (a watched file's deletes: the objects it put there and no longer defines), so the
   * changes queued before it are taken into account; what it throws, `change` rejects with.
   */
  change(request: ChangeRequest | (() => ChangeRequest)): Promise<ChangeOutcome>;
  /**
   * `change` in one go, without giving the event loop a turn: for startup's example load,
   * before the listeners are open. Safe next to a queued change being judged: that one's
   * commit sees the new revision and judges again.
   */
  changeNow(request: ChangeRequest): Promise<ChangeOutcome>;
  rollback(to: number, options?: { dryRun?: boolean; source?: string }): Promise<ChangeOutcome>;
  /** Which Envoy resources a change would add, change or remove, per node group (queued like `change`). */
  diff(request: ChangeSet): Promise<DiffOutcome>;
  /** The snapshot cache key of a node: its node group. */
  nodeGroupOf(node: NodeIdentity): string;
  /** What the cache holds now. */
  state(): PushedState;
  /** Resolves once every stored change is compiled and set on the cache (and every watch notified). */
  flush(): Promise<void>;
  /**
   * The change id (log/change-id.ts) of the push that first set this version of
   * a type on a node group, for the logs of ACKs and NACKs; undefined once forgotten.
   */
  changeOf(group: string, typeUrl: string, version: string): string | undefined;
  /**
   * Holds the snapshots of an older revision in the cache too, per node group under
   * `pinnedKey(group, revision)`, for the proxies a rollout keeps
   * on it (issue 11); undefined drops them. One revision at a time: pinning another replaces it.
   * The current revision's snapshots are reused as they are; an older one is compiled from history.
   */
  pin(revision: number | undefined): Promise<void>;
  /** The pinned revision and its snapshots per node group, while one is pinned. */
  pinned(): { readonly revision: number; readonly snapshots: ReadonlyMap<string, Snapshot> } | undefined;
  /**
   * The store changed under us (revisions another replica wrote, read in by the store): compile
   * and push them as after a local commit, after the same debounce.
   */
  refresh(): void;
  close(): Promise<void>;
}

interface Built {
  readonly result: CompileResult;
  readonly snapshots: Map<string, Snapshot>;
  /** Snapshot consistency errors, as diagnostics; compile() should make these impossible. */
  readonly problems: Diagnostic[];
}

function build(compiler: Compiler, objects: readonly ModelObject[], changed?: ReadonlySet<string>): Built {
  // One incremental compiler for the reconciler's life: an endpoint-only change
  // skips full translation, and unchanged resources keep their message objects,
  // whose encodings the library reuses.
  return snapshotsOf(compiler.compile(objects, changed === undefined ? {} : { changed }));
}

/** build, giving the event loop a turn during the compile and between encodings (issue 14). */
async function buildSliced(compiler: Compiler, objects: readonly ModelObject[], changed?: ReadonlySet<string>): Promise<Built> {
  const result = await compiler.compileSliced(objects, changed === undefined ? {} : { changed });
  // createSnapshot (encode: true) encodes every new message in one go (40,000 resources: ~0.4 s);
  // encoded here a few at a time first, the snapshot finds them in the library's cache.
  await runSliced(encodeSteps(result));
  await setImmediate();
  return snapshotsOf(result);
}

function* encodeSteps(result: CompileResult): Steps<void> {
  for (const group of result.groups) {
    for (const message of group.resources) {
      yield;
      try {
        encodeSnapshotResource(message);
      } catch {
        // createSnapshot throws it again, where it becomes a diagnostic.
      }
    }
  }
}

function snapshotsOf(result: CompileResult): Built {
  const snapshots = new Map<string, Snapshot>();
  const problems: Diagnostic[] = [];
  for (const group of result.groups) {
    try {
      // No explicit version: the library derives it from the content, so the same
      // objects give the same versions after a restart and reconnecting Envoys see no change.
      // encode: a resource that cannot be encoded is refused here, as a diagnostic, not when
      // pushed (the library encodes on first use otherwise; push reads every version anyway).
      snapshots.set(group.name, createSnapshot({ resources: group.resources, encode: true }));
    } catch (error) {
      problems.push({
        severity: "error",
        code: "snapshot.inconsistent",
        message: `node group ${group.name}: ${error instanceof Error ? error.message : String(error)}`,
        hint: "this is a translation bug, not your configuration; please report it with the objects you applied",
      });
    }
  }
  return { result, snapshots, problems };
}

interface Judged {
  readonly built: Built;
  /** Object keys the change would break. */
  readonly refused: string[];
  readonly diagnostics: Diagnostic[];
}

interface Verdict {
  readonly preview: ChangePreview;
  readonly judged: Judged;
}

const changedKeys = (preview: ChangePreview): Set<string> => new Set(preview.changes.map((c) => c.key));

const isAccepted = (judged: Pick<Judged, "built" | "refused">): boolean => judged.refused.length === 0 && judged.built.problems.length === 0;

function selectorsOf(groups: readonly NodeGroupConfig[]): string {
  // Identities too: a change to who may be a group must re-authorize open streams (XdsServer.rekey).
  return JSON.stringify(groups.map((g) => [g.name, g.selector, g.identities ?? null]));
}

/**
 * The one writer of the snapshot cache. Changes are validated synchronously
 * against the current object set (so two API calls cannot interleave between
 * check and commit), stored, then compiled and pushed after a short debounce.
 */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { store, cache } = options;
  const debounceMs = options.debounceMs ?? 50;
  const log = oneLineLog(options.log ?? (() => {}));
  const compiler = createCompiler(options.compile ?? {});
  const metrics = options.metrics;
  const compile = (objects: readonly ModelObject[], changed?: ReadonlySet<string>): Built => {
    const started = performance.now();
    const built = build(compiler, objects, changed);
    metrics?.compiled(performance.now() - started);
    return built;
  };
  /** compile in slices; its time counts the turns it gives away too (the time the change waited for it). */
  const compileSliced = async (objects: readonly ModelObject[], changed?: ReadonlySet<string>): Promise<Built> => {
    const started = performance.now();
    const built = await buildSliced(compiler, objects, changed);
    metrics?.compiled(performance.now() - started);
    return built;
  };
  let pushed: PushedState = { revision: 0, groups: [], snapshots: new Map(), rejected: [] };
  /** Compile of the stored objects as of `current.revision`: the baseline a change is judged against. */
  let current: { revision: number; built: Built } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let waiters: (() => void)[] = [];
  let closed = false;
  /** "group typeUrl version" -> change id, the newest last; bounded so years of changes cannot grow it. */
  const versionChanges = new Map<string, string>();
  const maxVersionChanges = 10_000;
  let pinned: { revision: number; snapshots: ReadonlyMap<string, Snapshot> } | undefined;

  const baseline = (): Built => {
    const revision = store.currentRevision();
    if (current === undefined || current.revision !== revision) {
      current = { revision, built: compile(store.list().map((s) => s.object)) };
    }
    return current.built;
  };
  /** baseline, compiled in slices when it is stale (a restart, another writer). */
  const baselineSliced = async (): Promise<{ revision: number; built: Built }> => {
    const revision = store.currentRevision();
    if (current === undefined || current.revision !== revision) {
      const built = await compileSliced(store.list().map((s) => s.object));
      current = { revision, built };
    }
    return current;
  };
  /** Changes and diffs, one at a time in arrival order: two are never judged or committed interleaved. */
  let queue: Promise<unknown> = Promise.resolve();
  const queued = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  async function push(): Promise<void> {
    const started = performance.now();
    const revision = store.currentRevision();
    const built = baseline();
    if (built.result.rejected.length > 0) {
      log(`revision ${revision}: objects left out of the configuration (kept for you to fix): ${built.result.rejected.join(", ")}`, { level: "warn", revision });
    }
    const previous = pushed;
    // Groups whose snapshot could not be built keep their previous one.
    const snapshots = new Map(built.snapshots);
    for (const group of built.result.groups) {
      const old = previous.snapshots.get(group.name);
      if (!snapshots.has(group.name) && old !== undefined) snapshots.set(group.name, old);
    }
    pushed = { revision, groups: built.result.groups, snapshots, rejected: built.result.rejected };
    // Revision 0 is the empty store, no change of anyone's.
    const changeId = changeIdOf(revision);
    const changedGroups: string[] = [];
    for (const [name, snapshot] of built.snapshots) {
      let fresh = false;
      for (const typeUrl of snapshot.typeUrls) {
        const key = `${name} ${typeUrl} ${snapshot.typeVersion(typeUrl)}`;
        if (versionChanges.has(key)) continue;
        fresh = true;
        versionChanges.set(key, changeId);
        if (versionChanges.size > maxVersionChanges) versionChanges.delete(versionChanges.keys().next().value ?? "");
      }
      if (fresh) changedGroups.push(name);
    }
    await Promise.all([...built.snapshots].map(([name, snapshot]) => cache.setSnapshot(name, snapshot)));
    log(`revision ${revision} compiled and pushed; new versions for node groups: ${changedGroups.length === 0 ? "none" : changedGroups.sort().join(", ")}`, revision === 0 ? { revision } : { changeId, revision });
    for (const name of previous.snapshots.keys()) if (!snapshots.has(name)) cache.clearSnapshot(name);
    // New snapshots are in place first, so a node moved to another group finds its configuration there.
    if (selectorsOf(previous.groups) !== selectorsOf(pushed.groups)) options.onGroupsChanged?.();
    metrics?.pushed(performance.now() - started);
  }

  /** Runs pushes one at a time until the pushed revision is the stored one. */
  function kick(): Promise<void> {
    if (running !== undefined) return running;
    running = (async () => {
      try {
        do {
          await push();
        } while (!closed && pushed.revision !== store.currentRevision());
      } catch (error) {
        log(`push failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, { level: "error" });
      } finally {
        running = undefined;
        const done = waiters;
        waiters = [];
        for (const w of done) w();
      }
    })();
    return running;
  }

  function schedule(): void {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void kick();
    }, debounceMs);
  }

  function judge(objects: readonly ModelObject[], changed: ReadonlySet<string>): Judged {
    const before = new Set(baseline().result.rejected);
    // The objects the change touches lose conflicts with live ones: the error is theirs (issue 8).
    return verdictOf(compile(objects, changed), changed, before);
  }

  /** judge in slices, against the baseline of `base`. */
  async function judgeSliced(objects: readonly ModelObject[], changed: ReadonlySet<string>, base: Built): Promise<Judged> {
    return verdictOf(await compileSliced(objects, changed), changed, new Set(base.result.rejected));
  }

  function verdictOf(built: Built, changed: ReadonlySet<string>, before: ReadonlySet<string>): Judged {
    // A certificate outside its validity window is a warning in compile() (time passing must never take a
    // serving listener down), but the object that brings it is refused: clients would refuse it at once.
    const outOfDate = built.result.diagnostics.filter((d) => d.object !== undefined && changed.has(d.object) && certificateTimeCodes.has(d.code));
    const timeRefused = new Set(outOfDate.map((d) => d.object ?? ""));
    // Refuse when the change breaks an object: one it touches, or one that compiled before.
    const refused = [...new Set([...built.result.rejected.filter((key) => changed.has(key) || !before.has(key)), ...timeRefused])].sort();
    const relevant = new Set([...refused, ...changed]);
    const diagnostics = [
      ...built.result.diagnostics
        .filter((d) => d.object === undefined || relevant.has(d.object))
        .map((d) => (outOfDate.includes(d) ? { ...d, severity: "error" as const, message: `${d.message}: a change may not bring a certificate clients refuse` } : d)),
      ...built.problems,
    ];
    return { built, refused, diagnostics };
  }

  async function changeNow(request: ChangeRequest): Promise<ChangeOutcome> {
    const dryRun = request.dryRun ?? false;
    let verdict: Verdict | undefined;
    let judgingMs = 0;
    const decide = (preview: ChangePreview): boolean => {
      const judgingFrom = performance.now();
      verdict = { preview, judged: judge(preview.objects, changedKeys(preview)) };
      judgingMs += performance.now() - judgingFrom;
      return isAccepted(verdict.judged);
    };
    if (dryRun) decide(store.preview(request));
    // Judged inside the store's write transaction: what is checked is exactly what is written,
    // even if another writer changed the store since (issue 14: no dangling reference).
    const commitFrom = performance.now();
    const committed = dryRun ? undefined : await store.commit(request, { accept: decide, ...(request.rollout !== undefined ? { rollout: request.rollout } : {}) });
    // Store latency is the transaction's own time: the compile that judges the change inside it is counted as a compile.
    if (!dryRun) metrics?.committed(performance.now() - commitFrom - judgingMs, { changed: committed?.changed === true });
    if (verdict === undefined) throw new Error("the store did not judge the change");
    return outcomeOf(verdict, dryRun, committed);
  }

  async function changeSliced(input: ChangeRequest | (() => ChangeRequest)): Promise<ChangeOutcome> {
    const request = typeof input === "function" ? input() : input;
    const dryRun = request.dryRun ?? false;
    const base = await baselineSliced();
    const revision = store.currentRevision();
    const preview = await store.previewSliced(request);
    let verdict: Verdict = { preview, judged: await judgeSliced(preview.objects, changedKeys(preview), base.built) };
    if (dryRun) return outcomeOf(verdict, true, undefined);
    // The commit (20,000 rows: ~80 ms, one transaction) gets a turn of its own.
    await setImmediate();
    let judgingMs = 0;
    const commitFrom = performance.now();
    const committed = await store.commit(request, {
      ...(request.rollout !== undefined ? { rollout: request.rollout } : {}),
      accept: (now) => {
        // Judged against `revision` outside the transaction; a writer that committed since (another
        // process on this store, a file change taken meanwhile) means judging again, here, on what
        // is written: check and commit stay one step (issue 14: no dangling reference).
        if (store.currentRevision() !== revision || base.revision !== revision) {
          const judgingFrom = performance.now();
          verdict = { preview: now, judged: judge(now.objects, changedKeys(now)) };
          judgingMs += performance.now() - judgingFrom;
        }
        return isAccepted(verdict.judged);
      },
    });
    // Store latency is the transaction's own time: a judgment inside it is counted as a compile.
    metrics?.committed(performance.now() - commitFrom - judgingMs, { changed: committed.changed });
    const outcome = outcomeOf(verdict, false, committed);
    // The push and the caller's reply (20,000 changes to write out) each get a turn of their own too.
    await setImmediate();
    return outcome;
  }

  function outcomeOf(verdict: Verdict, dryRun: boolean, committed: CommitResult | undefined): ChangeOutcome {
    const { preview, judged } = verdict;
    const { refused, diagnostics, built } = judged;
    const accepted = refused.length === 0 && built.problems.length === 0;
    if (committed === undefined || !committed.changed) {
      return { accepted, dryRun, changed: accepted && dryRun && preview.changes.length > 0, changes: preview.changes, diagnostics, rejected: refused };
    }
    current = { revision: store.currentRevision(), built };
    schedule();
    return {
      accepted: true,
      dryRun: false,
      changed: true,
      ...(committed.revision !== undefined ? { revision: committed.revision } : {}),
      changes: committed.revision?.changes ?? [],
      diagnostics,
      rejected: [],
    };
  }

  return {
    async start() {
      await kick();
    },
    change: (request) => queued(() => changeSliced(request)),
    changeNow,
    rollback(to, opts = {}) {
      return queued(() => {
        const request = rollbackChange(store, to, opts.source === undefined ? {} : { source: opts.source });
        return changeSliced({ ...request, ...(opts.dryRun !== undefined ? { dryRun: opts.dryRun } : {}) });
      });
    },
    diff(request) {
      return queued(async () => {
        const base = await baselineSliced();
        const preview = store.preview(request);
        const { refused, diagnostics, built } = await judgeSliced(preview.objects, changedKeys(preview), base.built);
        return {
          accepted: isAccepted({ refused, built }),
          diagnostics,
          rejected: refused,
          changes: preview.changes,
          groups: diffSnapshots(base.built.snapshots, built.snapshots),
        };
      });
    },
    nodeGroupOf(node) {
      const metadata = node.metadata === undefined ? {} : { metadata: { ...node.metadata } };
      return matchNodeGroup(pushed.groups, { id: node.id, cluster: node.cluster, ...metadata }) ?? UNMATCHED_GROUP;
    },
    state: () => pushed,
    async pin(revision) {
      if (pinned?.revision === revision) return;
      const before = pinned;
      if (revision === undefined) {
        pinned = undefined;
      } else {
        // The pushed revision's snapshots are the very objects the proxies run now: same versions, nothing resent.
        const snapshots = revision === pushed.revision ? pushed.snapshots : build(createCompiler(options.compile ?? {}), store.objectsAt(revision)).snapshots;
        pinned = { revision, snapshots };
        await Promise.all([...snapshots].map(([group, snapshot]) => cache.setSnapshot(pinnedKey(group, revision), snapshot)));
      }
      if (before !== undefined) for (const group of before.snapshots.keys()) cache.clearSnapshot(pinnedKey(group, before.revision));
    },
    pinned: () => pinned,
    refresh: () => schedule(),
    changeOf: (group, typeUrl, version) => versionChanges.get(`${group} ${typeUrl} ${version}`),
    async flush() {
      if (timer === undefined && running === undefined && pushed.revision === store.currentRevision()) return;
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (running !== undefined) await new Promise<void>((resolve) => waiters.push(resolve));
      await kick();
    },
    async close() {
      // A change under way finishes (stored, or refused) before the store can be closed under it.
      await queue;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (running !== undefined) await running;
    },
  };
}
