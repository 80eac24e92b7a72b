import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Snapshot } from "@ts-control-plane/xds";
import { stringify } from "yaml";
import { oneLineLog } from "../log/one-line.ts";
import type { Diagnostic, ModelObject } from "../model/model-object.ts";
import type { ChangeOutcome, Reconciler } from "../reconciler/reconciler.ts";
import { type ParsedConfig, parseConfigTextSliced, withSource } from "../sources/read-config-file.ts";
import { fileTakeovers } from "../sources/file-takeover.ts";
import type { AdminExchange } from "./openapi-check.ts";
import { openApiDocument } from "./openapi-document.ts";
import { type ProxyConfig, type ProxyConfigOptions, proxyConfigTypes } from "../status/proxy-config.ts";
import type { StatusReport } from "../status/status-report.ts";
import type { ChangeWaitReport } from "../reconciler/change-waiter.ts";
import { changeIdOf } from "../log/change-id.ts";
import type { LogFields } from "../log/logger.ts";
import { parseDuration } from "../model/duration.ts";
import type { ObjectStore, StoredObject } from "../store/object-store.ts";
import { StoreError, type StoreErrorCode } from "../store/store-error.ts";
import { createBodyBudget } from "./body-budget.ts";
import { bodyDocuments } from "./body-documents.ts";
import { type AdminAuth, authorize, type Caller, requiredRole } from "./admin-auth.ts";
import { ApiError, ApiErrorCode } from "./api-error.ts";
import { changeSource as sourceOf } from "./change-source.ts";
import { allowedHosts, checkRequestOrigin } from "./request-origin.ts";
import { tokenRoutes } from "./token-routes.ts";
import { bootstrapReplicaOptions } from "./bootstrap-query.ts";
import { envoyBootstrapYaml } from "./envoy-bootstrap.ts";
import { internalError } from "./internal-error.ts";
import { parseJsonBody } from "./json-body.ts";
import { packageVersion } from "./package-version.ts";
import { readBody as readLimitedBody } from "./read-body.ts";
import { findRedactedPlaceholder, redactingLog, redactSecrets, redactText } from "../log/redact-secrets.ts";
import { pathSegments, requestUrl } from "./request-path.ts";
import { runSliced, type Steps } from "../model/time-slice.ts";
import { createChangeEvents } from "./change-events.ts";
import { dashboardReply, isDashboardPath } from "./dashboard-routes.ts";
import { revisionDiff } from "./revision-diff.ts";
import type { ChangeRequest } from "../reconciler/reconciler.ts";
import { type Rollout, RolloutError, RolloutErrorCode } from "../rollout/rollout.ts";
import type { RolloutController } from "../rollout/rollout-controller.ts";
import { parseRolloutSpec } from "../rollout/rollout-spec.ts";
import { type RolloutSummary, rolloutSummary } from "../rollout/rollout-summary.ts";
import type { HeldFile } from "../sources/file-sources.ts";

export interface AdminServerOptions {
  readonly store: ObjectStore;
  readonly reconciler: Reconciler;
  readonly status: () => StatusReport;
  /** What the xDS server sent one proxy (status/proxy-config.ts), for /api/v1/proxies/{node}/config. */
  readonly proxyConfig?: (nodeId: string, options: Omit<ProxyConfigOptions, "resourceObjects">) => ProxyConfig | undefined;
  /** The xDS address Envoys should use, for /api/v1/bootstrap; with the metrics sink's port when serve runs one. */
  readonly xds: { readonly host: string; readonly port: number; readonly metricsSinkPort?: number };
  /** Largest accepted request body; 4 MiB by default. */
  readonly maxBodyBytes?: number;
  /** Bytes of all request bodies being received at once; 64 MiB by default (503 with Retry-After beyond). */
  readonly bodyBudgetBytes?: number;
  /** Time for a whole request body to arrive; 30 s by default (408 beyond). */
  readonly bodyTimeoutMs?: number;
  /** One line per accepted or refused change; `fields.changeId` names an accepted one (log/change-id.ts). */
  readonly log?: (line: string, fields?: LogFields) => void;
  /** Who may call (admin-auth.ts); nobody is asked for a token by default. */
  readonly auth?: AdminAuth;
  /** Host names, besides loopback and the bind address, this API answers to (request-origin.ts). */
  readonly allowedHosts?: readonly string[];
  /**
   * Waits until the proxies a pushed change targets ACK or NACK it (reconciler/change-waiter.ts),
   * for `?wait=` on apply, delete and rollback; without it `?wait=` is refused.
   */
  readonly waitForChange?: (options: ChangeWaitRequest) => Promise<ChangeWaitReport>;
  /** What GET /metrics serves (control-plane-metrics.ts); 404 without. */
  readonly metrics?: { readonly contentType: string; text(): Promise<string> };
  /** Sees every answer as it goes out; the tests check each against the OpenAPI document (openapi-check.ts). */
  readonly onReply?: (exchange: AdminExchange) => void;
  /** Staged rollouts (`?canary=`, /api/v1/rollout, issue 11); without it a canary is refused. */
  readonly rollouts?: RolloutController;
  /** Watched files whose changes wait for the running rollout (GET /api/v1/rollout). */
  readonly heldFiles?: () => readonly HeldFile[];
}

/** What the admin API hands the waiter once a change is pushed. */
export interface ChangeWaitRequest {
  readonly before: ReadonlyMap<string, Snapshot>;
  readonly after: ReadonlyMap<string, Snapshot>;
  /** When the change was committed (Date.now()). */
  readonly startedAt: number;
  readonly timeoutMs: number;
}

/** How outcomeReply answers: who made the change, where its objects were written, how long to wait for the proxies. */
interface OutcomeReplyOptions {
  readonly source: string;
  readonly locate?: ParsedConfig["locate"] | undefined;
  readonly waitMs?: number | undefined;
  /** The cache's snapshots before the change (pushedBefore), for the wait. */
  readonly before?: ReadonlyMap<string, Snapshot>;
  /** The rollout that serves the change to its canary first. */
  readonly rollout?: Rollout | undefined;
}

/** `?wait=` without a duration, and the most a caller may ask for (a held request is a held socket). */
const defaultWaitMs = 30_000;
const maxWaitMs = 600_000;

export interface AdminServer {
  listen(options: { host?: string; port: number }): Promise<number>;
  close(): Promise<void>;
}

interface Ctx {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly segments: readonly string[];
  readonly caller: Caller;
}

type Reply = { status?: number; json?: unknown; text?: string; contentType?: string; headers?: Readonly<Record<string, string>> };

const apiCodeOf: Record<StoreErrorCode, ApiErrorCode> = {
  conflict: ApiErrorCode.Conflict,
  not_found: ApiErrorCode.NotFound,
  invalid_argument: ApiErrorCode.BadRequest,
  disk_full: ApiErrorCode.DiskFull,
  store_corrupt: ApiErrorCode.Internal,
  store_schema_unsupported: ApiErrorCode.Internal,
  purged: ApiErrorCode.Gone,
  store_key: ApiErrorCode.Internal,
  store_unavailable: ApiErrorCode.StoreUnavailable,
};

/** The admin HTTP API (node:http only). Every error is JSON `{ error: { code, message, diagnostics } }`. */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { store, reconciler } = options;
  // Log lines quote diagnostics and NACK messages, which can quote a key (issue 13).
  const log = oneLineLog(redactingLog(options.log ?? (() => {})));
  const bodyLimits = {
    maxBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    budget: createBodyBudget({ totalBytes: options.bodyBudgetBytes ?? 64 * 1024 * 1024 }),
    timeoutMs: options.bodyTimeoutMs ?? 30_000,
  };
  const baseDir = process.cwd();
  const readBody = (req: IncomingMessage): Promise<string> => readLimitedBody(req, bodyLimits);

  /** Objects from a body: multi-document YAML, one JSON object, a JSON array, or `{ "items": [...] }`. */
  async function objectsOf(text: string): Promise<{ objects: ModelObject[]; locate: ParsedConfig["locate"] }> {
    // Parsed in slices: 20,000 objects take about a second to parse, which must not block xDS streams (issue 14).
    const parsed = await parseConfigTextSliced(await bodyDocuments(text), { baseDir, readFiles: false });
    const errors = parsed.diagnostics.filter((d) => d.severity === "error");
    // A body too deep or too alias-laden to read at all is malformed (400), not a refused change (issue 14).
    const unreadable = errors.find((d) => d.code === "input.too_deep" || d.code === "yaml.aliases");
    if (unreadable !== undefined) throw new ApiError(ApiErrorCode.BadRequest, `the request body is ${unreadable.message}`, { diagnostics: parsed.diagnostics });
    if (errors.length > 0) throw new ApiError(ApiErrorCode.Refused, "the request body has errors", { diagnostics: parsed.diagnostics });
    // An empty body (or only comments, or `[]`) is a mistake, not a no-op that answers "unchanged" (issue 12).
    if (parsed.objects.length === 0) {
      throw new ApiError(ApiErrorCode.Refused, "the request body holds no objects", {
        diagnostics: [
          {
            severity: "error",
            code: "input.empty",
            message: "the request body holds no objects",
            hint: 'send multi-document YAML, one JSON object, a JSON array or {"items": [...]} with at least one object',
          },
        ],
      });
    }
    await runSliced(refuseRedactedValues(parsed.objects));
    return { objects: parsed.objects, locate: parsed.locate };
  }

  const changeSource = (ctx: Ctx, fallback: string): string => sourceOf(ctx.req, ctx.caller, fallback);
  const auth = options.auth ?? { mode: "none" };
  let hosts: ReadonlySet<string> = new Set();
  // The dashboard's live updates (GET /api/v1/events, docs/dashboard.md).
  const events = createChangeEvents({
    snapshot: () => ({ revision: store.currentRevision(), status: options.status() }),
    onError: (message) => log(`live events: cannot read the status: ${message}`),
  });

  const flag = (ctx: Ctx, name: string): boolean => ["true", "1", "yes"].includes(ctx.url.searchParams.get(name) ?? "");

  function intParam(value: string | null | undefined, name: string): number | undefined {
    if (value === null || value === undefined || value === "") return undefined;
    // Digits only, and few enough to be exact: 1e20 would reach SQLite as a float ("datatype mismatch", a 500) (issue 14).
    const digits = value.replace(/^"|"$/g, "");
    if (!/^[0-9]{1,15}$/.test(digits)) throw new ApiError(ApiErrorCode.BadRequest, `${name} must be a whole number from 0 to 999999999999999, got ${JSON.stringify(value)}`);
    return Number(digits);
  }

  function expectedRevision(ctx: Ctx): number | undefined {
    const header = ctx.req.headers["if-match"];
    return intParam(ctx.url.searchParams.get("expectedRevision") ?? (Array.isArray(header) ? header[0] : header), "expectedRevision");
  }

  /** `?wait=30s` (or `500ms`, `2m`, plain seconds, `true` for 30 s): how long to wait for the proxies' answers. */
  function waitParam(ctx: Ctx): number | undefined {
    const value = ctx.url.searchParams.get("wait");
    if (value === null || value === "false" || value === "0") return undefined;
    const ms = value === "" || value === "true" ? defaultWaitMs : /^\d+(\.\d+)?$/.test(value) ? Math.round(Number(value) * 1000) : parseDuration(value);
    if (ms === undefined || ms <= 0 || ms > maxWaitMs) {
      throw new ApiError(ApiErrorCode.BadRequest, `wait takes a duration from 1ms to 10m such as 30s, 500ms or 2m (plain numbers are seconds), got ${JSON.stringify(value)}`);
    }
    if (options.waitForChange === undefined) throw new ApiError(ApiErrorCode.BadRequest, "this admin server has no xDS server to wait for; leave out wait");
    return ms;
  }

  /**
   * What the cache holds before a change: read before the change is even queued, since a change
   * resolves after its commit and the push may already have run by then (issue 14 slices it).
   */
  const pushedBefore = (): ReadonlyMap<string, Snapshot> => reconciler.state().snapshots;

  /** Turns a reconciler outcome into the reply, logging the change; refusals are 422. */
  async function outcomeReply(raw: ChangeOutcome, reply: OutcomeReplyOptions): Promise<Reply> {
    const { source, locate, waitMs } = reply;
    const before = reply.before ?? pushedBefore();
    const startedAt = Date.now();
    // compile() knows objects and field paths; the body's parse knows where they were written.
    const outcome = locate === undefined ? raw : { ...raw, diagnostics: raw.diagnostics.map((d) => withSource(d, locate)) };
    const body = {
      accepted: outcome.accepted,
      dryRun: outcome.dryRun,
      changed: outcome.changed,
      revision: outcome.revision?.revision ?? store.currentRevision(),
      changes: outcome.changes,
      diagnostics: outcome.diagnostics,
      ...(reply.rollout !== undefined ? { rollout: reply.rollout } : {}),
    };
    if (!outcome.accepted) {
      if (!outcome.dryRun) log(`refused change from ${source}: ${summarize(outcome.diagnostics)}`, { level: "warn", source });
      throw new ApiError(ApiErrorCode.Refused, refusalMessage(outcome), {
        diagnostics: outcome.diagnostics,
        extra: { rejected: outcome.rejected, dryRun: outcome.dryRun },
      });
    }
    if (!outcome.dryRun && outcome.changed) {
      const changeId = changeIdOf(body.revision);
      log(`accepted change from ${source}: revision ${outcome.revision?.revision} (${outcome.revision?.summary})`, { changeId, source });
      // Answer once the new snapshots are set, so "applied" means "sent to every connected Envoy".
      await reconciler.flush();
      if (waitMs === undefined || options.waitForChange === undefined) return { json: { ...body, changeId } };
      const wait = await options.waitForChange({ before, after: reconciler.state().snapshots, startedAt, timeoutMs: waitMs });
      const failed = wait.nodes.filter((n) => n.result !== "acked");
      log(
        wait.live
          ? `change live: ${wait.targets} targeted proxies acknowledged it in ${wait.elapsedMs} ms`
          : `change not live after ${wait.elapsedMs} ms: ${failed.map((n) => `${n.node} ${n.result}${n.message === undefined ? "" : ` (${n.message})`}`).join(", ")}`,
        { level: wait.live ? "info" : "warn", changeId, live: wait.live },
      );
      // 200 either way: the change is stored and pushed; `live` says whether every targeted proxy took it (docs/admin-api.md § Waiting for the proxies).
      return { json: { ...body, changeId, live: wait.live, wait } };
    }
    // Nothing new to push: nothing to wait for.
    if (waitMs !== undefined && !outcome.dryRun) return { json: { ...body, live: true, wait: { live: true, targets: 0, timeoutMs: waitMs, elapsedMs: 0, nodes: [] } } };
    return { json: body };
  }

  function wrapStore<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw apiErrorOf(error);
    }
  }

  /** wrapStore for the reconciler's queued (asynchronous) calls. */
  async function wrapChange<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw apiErrorOf(error);
    }
  }

  const rolloutApiError = (error: unknown): unknown =>
    error instanceof RolloutError
      ? new ApiError(error.code === RolloutErrorCode.Invalid ? ApiErrorCode.BadRequest : ApiErrorCode.Conflict, error.message, { extra: { reason: error.code } })
      : error;

  /**
   * A change through the reconciler, or as a rollout when the query asks for a canary
   * (`?canary=10%` or `?canaryGroup=NAME`, with `bake`, `ackTimeout`, `manualPromote`; issue 11).
   * While a rollout runs, other changes are refused (409): the proxies run two revisions, and a
   * failed canary rolls the store back to the first.
   */
  async function changeOf(ctx: Ctx, request: ChangeRequest): Promise<{ outcome: ChangeOutcome; rollout?: Rollout }> {
    const sp = ctx.url.searchParams;
    let spec: ReturnType<typeof parseRolloutSpec>;
    try {
      spec = parseRolloutSpec({
        canary: sp.get("canary") ?? undefined,
        canaryGroup: sp.get("canaryGroup") ?? undefined,
        bake: sp.get("bake") ?? undefined,
        ackTimeout: sp.get("ackTimeout") ?? undefined,
        manualPromote: flag(ctx, "manualPromote"),
        max5xxIncrease: sp.get("max5xxIncrease") ?? undefined,
        minRequests: sp.get("minRequests") ?? undefined,
        maxConnectFailIncrease: sp.get("maxConnectFailIncrease") ?? undefined,
      });
    } catch (error) {
      throw rolloutApiError(error);
    }
    const rollouts = options.rollouts;
    if (spec === undefined) {
      if (request.dryRun !== true && rollouts?.running() === true) {
        const running = rollouts.latest();
        throw new ApiError(ApiErrorCode.Conflict, `rollout ${running?.id ?? ""} is running: promote or abort it before another change (tcp rollout promote|abort)`, { extra: { reason: RolloutErrorCode.Running } });
      }
      return { outcome: await wrapChange(() => reconciler.change(request)) };
    }
    if (rollouts === undefined) throw new ApiError(ApiErrorCode.BadRequest, "this admin server runs no rollouts; leave out canary");
    try {
      return await wrapChange(() => rollouts.apply(request, spec));
    } catch (error) {
      throw rolloutApiError(error);
    }
  }

  /** The revisions that were rolled out, and how each rollout went (history, issue 11). */
  const rolloutsByRevision = (): Map<number, RolloutSummary> => {
    const all = options.rollouts?.list() ?? [];
    const latest = options.rollouts?.latest();
    // The running rollout as the controller holds it now (the stored record is saved at each step too).
    return new Map(all.map((r) => (latest?.id === r.id ? latest : r)).map((r) => [r.toRevision, rolloutSummary(r)]));
  };

  /** GET /api/v1/rollout, GET /api/v1/rollouts, POST /api/v1/rollout/promote|abort. */
  async function rolloutRoutes(ctx: Ctx, method: string): Promise<Reply> {
    const rollouts = options.rollouts;
    if (rollouts === undefined) throw new ApiError(ApiErrorCode.NotFound, "this admin server runs no rollouts");
    if (ctx.segments[2] === "rollouts") {
      if (method !== "GET" || ctx.segments.length > 3) throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}; use GET /api/v1/rollouts`);
      const limit = intParam(ctx.url.searchParams.get("limit"), "limit") ?? 50;
      return { json: { items: rollouts.list({ limit }) } };
    }
    const action = ctx.segments[3];
    if (action === undefined) {
      if (method !== "GET") throw new ApiError(ApiErrorCode.MethodNotAllowed, `${method} ${ctx.url.pathname} is not allowed; use GET`);
      const rollout = rollouts.latest() ?? null;
      const nodes = options
        .status()
        .nodes.filter((n) => n.connected)
        .map((n) => ({ nodeId: n.nodeId, group: n.group, revision: n.revision ?? store.currentRevision(), state: n.state }));
      const heldFiles = options.heldFiles?.() ?? [];
      return { json: { revision: store.currentRevision(), rollout, nodes, ...(heldFiles.length > 0 ? { heldFiles } : {}) } };
    }
    if ((action !== "promote" && action !== "abort") || ctx.segments.length > 4) throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}; use /api/v1/rollout/promote or /api/v1/rollout/abort`);
    if (method !== "POST") throw new ApiError(ApiErrorCode.MethodNotAllowed, `${method} ${ctx.url.pathname} is not allowed; use POST`);
    const by = changeSource(ctx, "api");
    try {
      const rollout = action === "promote" ? await rollouts.promote(by) : await rollouts.abort(by);
      log(`rollout ${rollout.id} ${action === "promote" ? "promoted" : "aborted"} by ${by}`);
      return { json: { revision: store.currentRevision(), rollout } };
    } catch (error) {
      throw rolloutApiError(error);
    }
  }

  const item = (s: StoredObject) => ({ key: s.key, revision: s.revision, source: s.source, object: s.object });

  async function objects(ctx: Ctx): Promise<Reply> {
    const [kind, name, ...rest] = ctx.segments.slice(3);
    if (rest.length > 0) throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}`);
    const method = ctx.req.method ?? "GET";
    if (name === undefined) {
      if (method !== "GET") throw new ApiError(ApiErrorCode.MethodNotAllowed, `${method} is not allowed here; use POST /api/v1/apply to create objects`);
      const items = store.list().filter((s) => kind === undefined || s.object.kind === kind);
      return { json: { revision: store.currentRevision(), items: items.map(item) } };
    }
    const key = `${kind}/${name}`;
    if (method === "GET") {
      const s = store.get(key);
      if (s === undefined) throw new ApiError(ApiErrorCode.NotFound, `${key} does not exist`);
      return { json: item(s) };
    }
    if (method === "PUT") {
      const { objects: objs, locate } = await objectsOf(await readBody(ctx.req));
      const [object] = objs;
      if (objs.length !== 1 || object === undefined) throw new ApiError(ApiErrorCode.BadRequest, `PUT takes exactly one object, got ${objs.length}`);
      if (object.kind !== kind || object.metadata.name !== name) {
        throw new ApiError(ApiErrorCode.BadRequest, `the body is ${object.kind}/${object.metadata.name} but the URL names ${key}`);
      }
      const expected = expectedRevision(ctx);
      const source = changeSource(ctx, "api");
      // Read before the change: a bad wait must refuse the request, not answer an error for a stored change.
      const waitMs = waitParam(ctx);
      const takeovers = wrapStore(() => fileTakeovers(store, { upserts: [object], source }));
      const before = pushedBefore();
      const { outcome, rollout } = await changeOf(ctx, {
        upserts: [object],
        source,
        dryRun: flag(ctx, "dryRun"),
        ...(expected !== undefined ? { expectedRevisions: { [key]: expected } } : {}),
      });
      return outcomeReply({ ...outcome, diagnostics: [...takeovers, ...outcome.diagnostics] }, { source, locate, waitMs, before, rollout });
    }
    if (method === "DELETE") {
      if (store.get(key) === undefined) throw new ApiError(ApiErrorCode.NotFound, `${key} does not exist`);
      const expected = expectedRevision(ctx);
      const source = changeSource(ctx, "api");
      const waitMs = waitParam(ctx);
      const before = pushedBefore();
      const { outcome, rollout } = await changeOf(ctx, {
        deletes: [key],
        source,
        dryRun: flag(ctx, "dryRun"),
        ...(expected !== undefined ? { expectedRevisions: { [key]: expected } } : {}),
      });
      return outcomeReply(outcome, { source, waitMs, before, rollout });
    }
    throw new ApiError(ApiErrorCode.MethodNotAllowed, `${method} is not allowed on an object; use GET, PUT or DELETE`);
  }

  /** GET /api/v1/proxies/{node}/config?type=clusters|listeners|routes|endpoints|secrets|all&contents=false */
  function proxyConfigReply(ctx: Ctx): Reply {
    const [node, what, ...rest] = ctx.segments.slice(3);
    if (node === undefined || what !== "config" || rest.length > 0) throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}; use /api/v1/proxies/{node}/config`);
    if (options.proxyConfig === undefined) throw new ApiError(ApiErrorCode.NotFound, "this admin server has no xDS server to ask");
    const type = ctx.url.searchParams.get("type") ?? "all";
    const typeUrl = proxyConfigTypes.get(type);
    if (type !== "all" && typeUrl === undefined) {
      throw new ApiError(ApiErrorCode.BadRequest, `type must be one of ${[...proxyConfigTypes.keys(), "all"].join(", ")}, not ${JSON.stringify(type)}`);
    }
    const contents = ctx.url.searchParams.get("contents") !== "false";
    const config = options.proxyConfig(node, { withContents: contents, ...(typeUrl !== undefined ? { typeUrls: new Set([typeUrl]) } : {}) });
    if (config === undefined) throw new ApiError(ApiErrorCode.NotFound, `proxy ${JSON.stringify(node)} is not known to the xDS server (never connected, or forgotten); \`tcp status\` lists the proxies`);
    return { json: config };
  }

  /**
   * POST /api/v1/delete `{ "keys": ["Service/a", ...] }`: one revision, refused as a
   * whole when a key does not exist or a remaining object still references one.
   */
  async function deleteMany(ctx: Ctx): Promise<Reply> {
    if ((ctx.req.method ?? "GET") !== "POST") throw new ApiError(ApiErrorCode.MethodNotAllowed, `${ctx.req.method} ${ctx.url.pathname} is not allowed; use POST`);
    const body = parseJsonBody(await readBody(ctx.req), '{"keys": ["Service/a"]}') as { keys?: unknown } | null;
    const keys = body?.keys;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k): k is string => typeof k === "string" && /^[^/]+\/[^/]+$/.test(k))) {
      throw new ApiError(ApiErrorCode.BadRequest, 'keys must be a non-empty list of "KIND/NAME" strings');
    }
    const missing = keys.filter((k) => store.get(k) === undefined);
    if (missing.length > 0) throw new ApiError(ApiErrorCode.NotFound, `${missing.join(", ")} ${missing.length === 1 ? "does" : "do"} not exist; nothing was deleted`);
    const source = changeSource(ctx, "api");
    const waitMs = waitParam(ctx);
    const before = pushedBefore();
    const { outcome, rollout } = await changeOf(ctx, { deletes: [...new Set(keys)], source, dryRun: flag(ctx, "dryRun") });
    return outcomeReply(outcome, { source, waitMs, before, rollout });
  }

  /**
   * POST /api/v1/history/purge `{"before": N}` or `{"keep": N}`: deletes the revisions older than N
   * (or all but the newest N) and VACUUMs, so a rotated key is gone from the store file (issue 13).
   */
  async function purgeHistory(ctx: Ctx): Promise<Reply> {
    if ((ctx.req.method ?? "GET") !== "POST") throw new ApiError(ApiErrorCode.MethodNotAllowed, `${ctx.req.method} ${ctx.url.pathname} is not allowed; use POST`);
    const example = '{"before": 10} or {"keep": 5}';
    const body = parseJsonBody(await readBody(ctx.req), example);
    const { before, keep } = (typeof body === "object" && body !== null ? body : {}) as { before?: unknown; keep?: unknown };
    if ((before === undefined) === (keep === undefined)) throw new ApiError(ApiErrorCode.BadRequest, `say either before or keep: ${example}`);
    const current = store.currentRevision();
    const n = intParam(String(before ?? keep), before !== undefined ? "before" : "keep") ?? 0;
    if (keep !== undefined && n < 1) throw new ApiError(ApiErrorCode.BadRequest, "keep must be at least 1: the current revision always stays");
    const from = before !== undefined ? n : Math.max(1, current - n + 1);
    const result = await wrapChange(() => store.purge({ before: from }));
    log(`history purged by ${ctx.caller.identity ?? "an unauthenticated caller"}: ${result.revisions} revisions before ${from} deleted`);
    return { json: { revision: current, ...result } };
  }

  /** GET /api/v1/history/diff?from=A&to=B (to: the current revision by default): what changed, object by object. */
  function historyDiff(ctx: Ctx): Reply {
    if (ctx.segments.length > 4) throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}; use /api/v1/history/diff?from=A&to=B`);
    const from = intParam(ctx.url.searchParams.get("from"), "from");
    if (from === undefined) throw new ApiError(ApiErrorCode.BadRequest, "say which revision to compare from: ?from=A&to=B (to defaults to the current revision)");
    const to = intParam(ctx.url.searchParams.get("to"), "to") ?? store.currentRevision();
    return { json: wrapStore(() => revisionDiff(store, { from, to })) };
  }

  async function route(ctx: Ctx): Promise<Reply> {
    const method = ctx.req.method ?? "GET";
    const path = ctx.segments.join("/");
    const only = (m: string) => {
      if (method !== m) throw new ApiError(ApiErrorCode.MethodNotAllowed, `${method} ${ctx.url.pathname} is not allowed; use ${m}`);
    };
    if (isDashboardPath(ctx.segments)) return dashboardReply({ method, segments: ctx.segments });
    if (path === "healthz") {
      only("GET");
      // Degraded, not down: xDS still serves the last configuration; only writes wait for the store (issue 10 item 7).
      const health = store.health();
      return { json: health.state === "ok" ? { status: "ok", revision: store.currentRevision() } : { status: "degraded", revision: store.currentRevision(), store: health } };
    }
    if (path === "metrics") {
      only("GET");
      if (options.metrics === undefined) throw new ApiError(ApiErrorCode.NotFound, "this admin server serves no metrics");
      return { text: await options.metrics.text(), contentType: options.metrics.contentType };
    }
    if (ctx.segments[0] !== "api" || ctx.segments[1] !== "v1") throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}`);
    switch (ctx.segments[2]) {
      case "objects":
        return objects(ctx);
      case "apply": {
        only("POST");
        const waitMs = waitParam(ctx);
        const { objects: objs, locate } = await objectsOf(await readBody(ctx.req));
        const source = changeSource(ctx, "api");
        // An object a watched file defines is not taken over silently (issue 8): the reply warns.
        const takeovers = wrapStore(() => fileTakeovers(store, { upserts: objs, source }));
        const before = pushedBefore();
        const { outcome, rollout } = await changeOf(ctx, { upserts: objs, source, dryRun: flag(ctx, "dryRun") });
        return outcomeReply({ ...outcome, diagnostics: [...takeovers, ...outcome.diagnostics] }, { source, locate, waitMs, before, rollout });
      }
      case "validate": {
        only("POST");
        const { objects: objs, locate } = await objectsOf(await readBody(ctx.req));
        const outcome = await wrapChange(() => reconciler.change({ upserts: objs, source: "validate", dryRun: true }));
        return outcomeReply(outcome, { source: "validate", locate });
      }
      case "diff": {
        only("POST");
        const { objects: objs, locate } = await objectsOf(await readBody(ctx.req));
        const d = await wrapChange(() => reconciler.diff({ upserts: objs, source: "diff" }));
        if (!d.accepted) {
          const diagnostics = d.diagnostics.map((x) => withSource(x, locate));
          throw new ApiError(ApiErrorCode.Refused, "this change would be refused", { diagnostics, extra: { rejected: d.rejected } });
        }
        return { json: { revision: store.currentRevision(), changes: d.changes, groups: d.groups, diagnostics: d.diagnostics } };
      }
      case "openapi.json":
        only("GET");
        return { json: openApiDocument };
      case "version":
        only("GET");
        return { json: { version: packageVersion, revision: store.currentRevision() } };
      case "delete":
        return deleteMany(ctx);
      case "status":
        only("GET");
        return { json: options.status() };
      case "proxies":
        only("GET");
        return proxyConfigReply(ctx);
      case "history": {
        if (ctx.segments[3] === "purge") return purgeHistory(ctx);
        only("GET");
        if (ctx.segments[3] === "diff") return historyDiff(ctx);
        const n = intParam(ctx.segments[3], "revision");
        if (n !== undefined) {
          const info = wrapStore(() => store.revision(n));
          if (info === undefined) throw new ApiError(ApiErrorCode.NotFound, `revision ${n} does not exist (latest is ${store.currentRevision()})`);
          const rollout = rolloutsByRevision().get(n);
          return { json: { ...info, ...(rollout !== undefined ? { rollout } : {}), objects: store.objectsAt(n) } };
        }
        const limit = intParam(ctx.url.searchParams.get("limit"), "limit") ?? 50;
        const rolledOut = rolloutsByRevision();
        const items = store.history({ limit }).map((info) => {
          const rollout = rolledOut.get(info.revision);
          return rollout === undefined ? info : { ...info, rollout };
        });
        return { json: { revision: store.currentRevision(), items } };
      }
      case "rollback": {
        only("POST");
        const text = await readBody(ctx.req);
        const parsed = text.trim() === "" ? {} : parseJsonBody(text, '{"to": 3}');
        const body = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { to?: unknown; dryRun?: unknown };
        const to = intParam(ctx.url.searchParams.get("to") ?? (body.to === undefined ? undefined : String(body.to)), "to");
        if (to === undefined) throw new ApiError(ApiErrorCode.BadRequest, 'say which revision to roll back to: {"to": N} or ?to=N');
        const by = changeSource(ctx, "");
        const source = by === "" ? `rollback:${to}` : `${by}:rollback:${to}`;
        const waitMs = waitParam(ctx);
        const before = pushedBefore();
        const dryRun = flag(ctx, "dryRun") || body.dryRun === true;
        if (!dryRun && options.rollouts?.running() === true) {
          throw new ApiError(ApiErrorCode.Conflict, `rollout ${options.rollouts.latest()?.id ?? ""} is running: abort it (tcp rollout abort) rather than roll back under it`, { extra: { reason: RolloutErrorCode.Running } });
        }
        const outcome = await wrapChange(() => reconciler.rollback(to, { dryRun, source }));
        return outcomeReply(outcome, { source, waitMs, before });
      }
      case "rollout":
      case "rollouts":
        return rolloutRoutes(ctx, method);
      case "tokens":
        return tokenRoutes({ method, segments: ctx.segments, auth, readBody: () => readBody(ctx.req), log, identity: ctx.caller.identity });
      case "bootstrap": {
        only("GET");
        const node = ctx.url.searchParams.get("node");
        if (node === null || node === "") throw new ApiError(ApiErrorCode.BadRequest, "say which node the bootstrap is for: ?node=ID");
        const cluster = ctx.url.searchParams.get("cluster");
        const adminPort = intParam(ctx.url.searchParams.get("adminPort"), "adminPort");
        if (adminPort !== undefined && adminPort > 65535) throw new ApiError(ApiErrorCode.BadRequest, `adminPort must be a port from 0 to 65535, got ${adminPort}`);
        const host = ["0.0.0.0", "::", ""].includes(options.xds.host) ? "127.0.0.1" : options.xds.host;
        const text = envoyBootstrapYaml({
          nodeId: node,
          ...(cluster !== null && cluster !== "" ? { nodeCluster: cluster } : {}),
          xdsHost: host,
          xdsPort: options.xds.port,
          ...bootstrapReplicaOptions(ctx.url.searchParams),
          ...(adminPort !== undefined ? { adminPort } : {}),
          ...(flag(ctx, "delta") ? { delta: true } : {}),
          ...(options.xds.metricsSinkPort !== undefined ? { metricsSinkPort: options.xds.metricsSinkPort } : {}),
        });
        return { text, contentType: "application/yaml" };
      }
      default:
        throw new ApiError(ApiErrorCode.NotFound, `no such path ${ctx.url.pathname}`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = requestUrl(req.url ?? "/");
      const segments = pathSegments(url.pathname);
      // Origin and credentials are checked before anything reads the store (issue 13).
      checkRequestOrigin(req, hosts);
      const caller = authorize(req, auth, requiredRole(req.method ?? "GET", segments));
      if (segments.length === 3 && segments[0] === "api" && segments[1] === "v1" && segments[2] === "events") {
        if (req.method !== "GET") throw new ApiError(ApiErrorCode.MethodNotAllowed, `${req.method} ${url.pathname} is not allowed; use GET`);
        events.attach(req, res);
        return;
      }
      reply = await route({ req, url, segments, caller });
    } catch (error) {
      const e = error instanceof ApiError ? error : internalError(error, { method: req.method ?? "", url: req.url ?? "", log });
      reply = { status: e.status, json: e.toJson(), headers: e.headers };
      // Drain what is left of a refused body, so the client sees the answer instead of a reset.
      req.resume();
    }
    const wantsYaml = reply.json !== undefined && (req.headers.accept ?? "").includes("yaml");
    // The output boundary: every answer, success or error, JSON, YAML or text, goes out
    // with its private keys replaced by placeholders (redact-secrets.ts, issue 13).
    const json = redactSecrets(reply.json);
    const body = reply.text !== undefined ? redactText(reply.text) : wantsYaml ? stringify(json) : `${JSON.stringify(json, null, 2)}\n`;
    const contentType = reply.contentType ?? (wantsYaml ? "application/yaml" : "application/json");
    options.onReply?.({ method: req.method ?? "GET", path: replyPath(req.url), status: reply.status ?? 200, contentType, ...(reply.text === undefined ? { json } : {}) });
    res.writeHead(reply.status ?? 200, {
      "content-type": contentType,
      "cache-control": "no-store",
      ...reply.headers,
      // RFC 6750 § 3: a 401 says which scheme to use.
      ...(reply.status === 401 ? { "www-authenticate": 'Bearer realm="tcp-admin"' } : {}),
    });
    res.end(body);
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  return {
    listen(opts) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: opts.host ?? "127.0.0.1", port: opts.port }, () => {
          server.off("error", reject);
          const port = (server.address() as AddressInfo).port;
          hosts = allowedHosts({ port, bindHost: opts.host ?? "127.0.0.1", ...(options.allowedHosts !== undefined ? { extra: options.allowedHosts } : {}) });
          resolve(port);
        });
      });
    },
    close() {
      events.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A store error as the API answers it (conflict 409, not found 404, ...); anything else as it is. */
function apiErrorOf(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error;
  // The store comes back by itself (the replica reconnects with backoff): a client may retry.
  return new ApiError(apiCodeOf[error.code], error.message, error.code === "store_unavailable" ? { headers: { "retry-after": "2" } } : {});
}

/**
 * An object read back (get, history) and applied as it was would replace a real key by its
 * placeholder: refused, with the path of the placeholder and the fix (issue 13).
 */
function* refuseRedactedValues(objects: readonly ModelObject[]): Steps<void> {
  const diagnostics: Diagnostic[] = [];
  for (const object of objects) {
    yield;
    const path = findRedactedPlaceholder(object);
    if (path === undefined) continue;
    diagnostics.push({
      severity: "error",
      code: "secret.redacted_value",
      object: `${object.kind}/${object.metadata.name}`,
      path,
      message: "this is a redacted value, not a key: the admin API never answers private keys",
      hint: "send the real key (from your own files or secret manager) or omit the field",
    });
  }
  if (diagnostics.length > 0) throw new ApiError(ApiErrorCode.Refused, "the request body holds redacted values; nothing was changed", { diagnostics });
}

/** The path of a request URL, for onReply; "" when it cannot be read (the answer is then a 400). */
function replyPath(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://admin").pathname;
  } catch {
    return "";
  }
}

function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const first = errors[0];
  if (first === undefined) return "no details";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${[first.object, first.path].filter(Boolean).join(" ")}: ${first.message}${more}`;
}

function refusalMessage(outcome: ChangeOutcome): string {
  const what = outcome.rejected.length > 0 ? `: ${outcome.rejected.join(", ")} would be invalid` : "";
  return `${outcome.dryRun ? "this change would be refused" : "change refused"}${what}; nothing was changed`;
}
