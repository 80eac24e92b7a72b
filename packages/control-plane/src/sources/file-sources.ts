import { changeIdOf } from "../log/change-id.ts";
import type { LogFields } from "../log/logger.ts";
import { existsSync, type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Diagnostic } from "../model/model-object.ts";
import type { ChangeSet, ObjectStore } from "../store/object-store.ts";
import { StoreError } from "../store/store-error.ts";
import { formatDiagnostic } from "./format-diagnostic.ts";
import { isConfigFile, listConfigFiles } from "./list-config-files.ts";
import { type ParsedConfig, readConfigFileSliced, withSource } from "./read-config-file.ts";
import { oneLineLog } from "../log/one-line.ts";

export interface ApplyVerdict {
  readonly accepted: boolean;
  readonly changed: boolean;
  readonly revision?: { readonly revision: number } | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

export interface FileSourcesOptions {
  /** Files or directories given with --config. */
  readonly paths: readonly string[];
  /** The store, to know which objects each file put there (so removing them from the file deletes them). */
  readonly store: ObjectStore;
  /**
   * Validates and stores a change: the reconciler's `change`, whose queue the admin API's changes
   * share, so file and API changes are judged one at a time in arrival order. `plan` works the
   * change out from the store as it is when the change's turn comes (which objects the file no
   * longer defines); what it throws, apply rejects with.
   */
  readonly apply: (plan: () => ChangeSet) => ApplyVerdict | Promise<ApplyVerdict>;
  /** Quiet time after the last file event before files are read; 100 ms by default. */
  readonly debounceMs?: number;
  /**
   * How long a file must stay missing before its objects are deleted; 1 s by default.
   * Some editors delete (or rename away) the original before writing the new file:
   * deleting its objects in that gap would briefly take listeners off every Envoy.
   */
  readonly missingGraceMs?: number;
  /** One call per event; `fields.changeId` names an accepted change (log/change-id.ts). */
  readonly log?: (line: string, fields?: LogFields) => void;
  /**
   * While `reason` gives one (a rollout runs: its proxies are on two revisions, and a failed
   * canary puts the store back), a file change is not applied: it would bypass the rollout. It
   * waits, logged with the reason and listed by `held()`, and is read and applied again when
   * `onRelease` fires. Asked at the change's turn in the apply queue, so a rollout started just
   * before is seen.
   */
  readonly hold?: { readonly reason: () => string | undefined; readonly onRelease: (listener: () => void) => () => void };
}

export interface FileApplyResult {
  readonly files: readonly string[];
  readonly accepted: boolean;
  readonly changed: boolean;
  readonly revision?: number;
  readonly diagnostics: readonly Diagnostic[];
  /** Set when the change waits (FileSourcesOptions.hold): why. */
  readonly held?: string;
}

/** A watched file whose change waits for a running rollout to end. */
export interface HeldFile {
  readonly file: string;
  /** When its change was first held (ISO time). */
  readonly since: string;
  readonly reason: string;
}

export interface FileSources {
  /** Reads every file once and applies them together (objects may reference each other across files). */
  start(): Promise<FileApplyResult[]>;
  /** Resolves after the pending file events (if any) are processed; for tests and shutdown. */
  settle(): Promise<void>;
  /** The files whose changes wait (FileSourcesOptions.hold), oldest first. */
  held(): HeldFile[];
  close(): void;
}

export const fileSource = (file: string): string => `file:${file}`;

/** The file that put an object in the store, from the object's stored source (fileSource), if a file did. */
export function owningFile(source: string): string | undefined {
  return source.startsWith("file:") ? source.slice("file:".length) : undefined;
}

/**
 * Watched YAML files and directories. Objects from files are applied like API
 * changes (one revision, source "file:<path>"); a file with errors is refused as
 * a whole and the objects it put there before stay live.
 *
 * Files are read and parsed in slices and applied through `apply`'s queue, one batch
 * of file events at a time: a 20,000-object file saved while serving does not hold the
 * event loop (issue 14), and a batch's deletes are worked out after the batch before it
 * is stored.
 *
 * Directories are watched rather than files: editors that save by writing a temp
 * file and renaming it over the original replace the inode, which silently ends a
 * watch on the file itself.
 */
export function createFileSources(options: FileSourcesOptions): FileSources {
  const log = oneLineLog(options.log ?? ((line: string) => console.log(line)));
  const debounceMs = options.debounceMs ?? 100;
  const roots = options.paths.map((p) => resolve(p));
  const watchers: FSWatcher[] = [];
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let settleWaiters: (() => void)[] = [];
  let closed = false;
  /** File work (a debounced batch, a missing-file re-check), one at a time in order; `working` counts what is queued or running. */
  let work: Promise<unknown> = Promise.resolve();
  let working = 0;
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    working++;
    const run = work.then(fn);
    work = run
      .catch(() => {})
      .finally(() => {
        working--;
        wakeSettled();
      });
    return run;
  };
  /** A batch started by a timer has no caller to throw to: its failure is logged, and the next batch runs. */
  const inBackground = (fn: () => Promise<unknown>): void => {
    serially(fn).catch((error: unknown) => {
      log(`reading config files failed: ${error instanceof Error ? error.message : String(error)}`, { level: "error" });
    });
  };
  const missingGraceMs = options.missingGraceMs ?? 1000;
  /** Missing files waiting out the grace period: file -> its re-check timer. */
  const missing = new Map<string, number>();
  /** One timer for the earliest deadline in `missing`. */
  let missingTimer: NodeJS.Timeout | undefined;
  /** Files whose change waits for the hold to be released. */
  const heldFiles = new Map<string, HeldFile>();
  const stopHolding = options.hold?.onRelease(() => {
    if (closed || heldFiles.size === 0) return;
    const files = [...heldFiles.keys()];
    log(`applying the config file changes that waited for the rollout: ${files.join(", ")}`);
    heldFiles.clear();
    for (const file of files) pending.add(file);
    if (timer === undefined) flush();
  });

  async function tryApply(parsed: readonly ParsedConfig[]): Promise<FileApplyResult> {
    const files = parsed.map((p) => p.file ?? "");
    const upserts = parsed.flatMap((p) => p.objects);
    const objectSources: Record<string, string> = {};
    for (const p of parsed) for (const o of p.objects) objectSources[`${o.kind}/${o.metadata.name}`] = fileSource(p.file ?? "");
    const upserted = new Set(Object.keys(objectSources));
    const owners = new Set(files.map(fileSource));
    const source = files.length === 1 ? fileSource(files[0] ?? "") : `file:${files.length} files`;
    // Worked out when the change's turn comes: an API change queued before it may have deleted
    // or taken over an object this file no longer defines (then it is not this file's to delete).
    const plan = (): ChangeSet => {
      const stored = options.store.list();
      const deletes = stored.filter((s) => owners.has(s.source) && !upserted.has(s.key)).map((s) => s.key);
      if (upserts.length === 0 && deletes.length > 0 && deletes.length >= stored.length) throw new WouldEmpty(wouldEmpty(files, deletes.length));
      const held = options.hold?.reason();
      if (held !== undefined) throw new Held(held);
      return { upserts, deletes, objectSources, source };
    };
    let verdict: ApplyVerdict;
    try {
      verdict = await options.apply(plan);
    } catch (error) {
      if (error instanceof Held) return { files, accepted: false, changed: false, diagnostics: [], held: error.message };
      if (error instanceof WouldEmpty) verdict = error.verdict;
      else if (error instanceof StoreError) {
        verdict = {
          accepted: false,
          changed: false,
          diagnostics: [{ severity: "error", code: `store.${error.code}`, message: error.message, hint: storeHint(error) }],
        };
      } else throw error;
    }
    const located = verdict.diagnostics.map((d) => {
      for (const p of parsed) {
        const l = withSource(d, p.locate);
        if (l !== d) return l;
      }
      return d;
    });
    return {
      files,
      accepted: verdict.accepted,
      changed: verdict.changed,
      ...(verdict.revision !== undefined ? { revision: verdict.revision.revision } : {}),
      diagnostics: located,
    };
  }

  function report(r: FileApplyResult): void {
    const what = r.files.join(", ");
    if (r.held !== undefined) {
      const since = new Date().toISOString();
      const fresh = r.files.filter((f) => !heldFiles.has(f));
      for (const file of r.files) heldFiles.set(file, { file, since: heldFiles.get(file)?.since ?? since, reason: r.held });
      if (fresh.length > 0) log(`change from ${fresh.join(", ")} not applied yet: ${r.held}`, { level: "warn", source: what });
      return;
    }
    if (!r.accepted) {
      log(`refused change from ${what}: the objects it put there before stay live`, { level: "warn", source: what });
      for (const d of r.diagnostics) log(`  ${formatDiagnostic(d)}`, { level: d.severity === "error" ? "warn" : "info", source: what });
    } else if (r.changed) {
      log(`accepted change from ${what}: revision ${r.revision ?? "?"}`, r.revision === undefined ? { source: what } : { changeId: changeIdOf(r.revision), source: what });
      for (const d of r.diagnostics) log(`  ${formatDiagnostic(d)}`);
    }
  }

  /** The --config path a file was found under. */
  function rootOf(file: string): string | undefined {
    return roots.find((r) => file === r || file.startsWith(r + sep));
  }

  async function process(files: readonly string[], opts: { graceForMissing: boolean }): Promise<FileApplyResult[]> {
    const parsed: ParsedConfig[] = [];
    for (const file of files) {
      const p = await readConfigFileSliced(file);
      // Closing while a large file was read: the reconciler and store are going, nothing more is applied.
      if (closed) return [];
      const pendingCheck = missing.get(file);
      const root = rootOf(file);
      if (!p.exists && root !== undefined && root !== file && !existsSync(root)) {
        // The whole --config directory is gone (unmounted volume, a deleted checkout): that is a lost
        // source, not an operator's edit, so its objects stay live (issue 14: never an empty fleet by accident).
        log(`config path ${root} is missing: the objects from ${file} stay live; recreate the directory, or remove them with tcp delete`, { level: "warn" });
        continue;
      }
      if (p.exists) {
        missing.delete(file);
        parsed.push(p);
      } else if (opts.graceForMissing && pendingCheck === undefined) {
        // Look again once the grace period is over; delete its objects only if it is still gone.
        missing.set(file, Date.now() + missingGraceMs);
        scheduleMissing();
      } else if (!opts.graceForMissing) parsed.push(p);
    }
    const results: FileApplyResult[] = [];
    const good: ParsedConfig[] = [];
    for (const p of parsed) {
      if (p.diagnostics.some((d) => d.severity === "error")) {
        results.push({ files: [p.file ?? ""], accepted: false, changed: false, diagnostics: p.diagnostics });
      } else good.push(p);
    }
    if (good.length > 0) {
      const together = await tryApply(good);
      // Vanished files are refused as a whole: one by one they would still empty the store.
      const emptying = together.diagnostics.some((d) => d.code === wouldEmptyCode);
      if (together.accepted || good.length === 1 || emptying || together.held !== undefined) results.push(together);
      // Together they break something: apply file by file, so one bad file does not hold back the others.
      else
        for (const p of good) {
          if (closed) break;
          results.push(await tryApply([p]));
        }
    }
    for (const r of results) report(r);
    return results;
  }

  function scheduleMissing(): void {
    if (missingTimer !== undefined || missing.size === 0 || closed) return;
    const due = Math.max(0, Math.min(...missing.values()) - Date.now());
    missingTimer = setTimeout(() => {
      missingTimer = undefined;
      // Files that went missing together are judged together: deleting all of them at once
      // may be what empties the store, which file-by-file checks would never see.
      const now = Date.now() + debounceMs;
      const files = [...missing].filter(([, deadline]) => deadline <= now).map(([file]) => file).sort();
      for (const file of files) missing.delete(file);
      if (!closed) inBackground(() => process(files, { graceForMissing: false }));
      scheduleMissing();
    }, due);
  }

  function wakeSettled(): void {
    if (!idle()) return;
    const waiters = settleWaiters;
    settleWaiters = [];
    for (const w of waiters) w();
  }

  function onEvent(file: string): void {
    if (closed) return;
    pending.add(file);
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  }

  function flush(): void {
    timer = undefined;
    const files = [...pending].sort();
    pending.clear();
    if (files.length > 0 && !closed) inBackground(() => process(files, { graceForMissing: true }));
    else wakeSettled();
  }

  const idle = (): boolean => timer === undefined && pending.size === 0 && missing.size === 0 && working === 0;

  function watchRoot(root: string): void {
    let isDir = false;
    try {
      isDir = statSync(root).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      watchDir(dirname(root), basename(root));
      return;
    }
    // Not { recursive: true }: on Linux it watches files one by one, and a rename-save
    // replaces the inode and ends that watch. Each directory is watched on its own.
    watchDir(root, undefined);
    for (const name of readdirSync(root, { recursive: true, encoding: "utf8" })) {
      const sub = join(root, name);
      try {
        if (statSync(sub).isDirectory()) watchDir(sub, undefined);
      } catch {
        // gone meanwhile
      }
    }
  }

  function watchDir(dir: string, only: string | undefined): void {
    try {
      const w = watch(dir, (_event, name) => {
        if (name === null) return;
        const rel = name.toString();
        if (only !== undefined ? rel !== only : !isConfigFile(rel)) return;
        onEvent(join(dir, rel));
      });
      w.on("error", (error) => log(`watching ${dir} failed: ${error.message}`, { level: "error" }));
      watchers.push(w);
    } catch (error) {
      log(`cannot watch ${dir}: ${error instanceof Error ? error.message : String(error)}`, { level: "error" });
    }
  }

  return {
    async start() {
      const files = [...new Set(roots.flatMap(listConfigFiles))];
      for (const root of roots) watchRoot(root);
      // At start a missing file was deleted while we were down: no editor is mid-save.
      // In the same queue as file events: one that comes meanwhile is processed after the first load.
      return serially(() => process(files, { graceForMissing: false }));
    },
    settle() {
      if (idle()) return Promise.resolve();
      return new Promise((resolve) => settleWaiters.push(resolve));
    },
    held: () => [...heldFiles.values()].sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0)),
    close() {
      closed = true;
      stopHolding?.();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (missingTimer !== undefined) clearTimeout(missingTimer);
      missingTimer = undefined;
      missing.clear();
      for (const w of watchers) w.close();
      const waiters = settleWaiters;
      settleWaiters = [];
      for (const w of waiters) w();
    },
  };
}

const wouldEmptyCode = "files.would_delete_everything";

/** Thrown by a file change's plan when, at its turn, changes are held (a rollout runs): carries why. */
class Held extends Error {}

/** Thrown by a file change's plan when, at its turn, it would empty the store: carries the refusal. */
class WouldEmpty extends Error {
  readonly verdict: ApplyVerdict;
  constructor(verdict: ApplyVerdict) {
    super(verdict.diagnostics[0]?.message ?? wouldEmptyCode);
    this.verdict = verdict;
  }
}

/**
 * Files that vanished would delete every stored object and push an empty configuration to
 * every Envoy: that takes an explicit `tcp delete`, never a side effect of lost files (issue 14).
 */
function wouldEmpty(files: readonly string[], count: number): ApplyVerdict {
  return {
    accepted: false,
    changed: false,
    diagnostics: [
      {
        severity: "error",
        code: wouldEmptyCode,
        message: `${files.join(", ")} ${files.length === 1 ? "is" : "are"} gone, which would delete all ${count} stored object${count === 1 ? "" : "s"} and leave every proxy with an empty configuration; they stay live`,
        hint: "restore the files, or delete the objects on purpose with tcp delete",
      },
    ],
  };
}

/** A duplicate key is the usual store refusal of a batch of files; a full disk needs space, not an edit. */
function storeHint(error: StoreError): string {
  return error.code === "disk_full" ? "free space on the store's disk, then save the file again" : "give every object a unique kind and name across all files";
}
