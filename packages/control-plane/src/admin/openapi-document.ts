// The OpenAPI 3.1 document of the admin API (issue 9), served at GET /api/v1/openapi.json
// and checked against every response the tests see (openapi-check.ts). One source: the
// route table below; adding an endpoint is one entry in `operations`.
import { ApiErrorCode } from "./api-error.ts";
import { packageVersion } from "./package-version.ts";

/** A JSON Schema (the subset openapi-check.ts understands: type, properties, required, items, enum, const, $ref, oneOf, additionalProperties). */
export type JsonSchema = { readonly [keyword: string]: unknown };

type Role = "none" | "read" | "write" | "admin";

/** A text answer of this media type (without parameters). */
interface TextAnswer {
  readonly text: string;
}

const isText = (answer: JsonSchema | TextAnswer): answer is TextAnswer => typeof answer["text"] === "string";

/** One operation of the admin API. */
interface Operation {
  readonly method: "get" | "post" | "put" | "delete";
  readonly path: string;
  readonly summary: string;
  /** The token role it needs when the API asks for tokens (admin-auth.ts requiredRole). */
  readonly role: Role;
  /** Query parameters: name -> description (all optional strings unless the text says otherwise). */
  readonly query?: Readonly<Record<string, string>>;
  /** The request body's schema, when it takes one (JSON, or YAML where the text says so). */
  readonly body?: JsonSchema;
  /** Success status -> schema of the JSON answer, or `{ text: mediaType }` for a text answer (YAML, Prometheus text, HTML). */
  readonly ok: Readonly<Record<string, JsonSchema | TextAnswer>>;
  /** Error statuses it may answer besides those every operation may (everyError). */
  readonly errors?: readonly number[];
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const str: JsonSchema = { type: "string" };
const int: JsonSchema = { type: "integer" };
const bool: JsonSchema = { type: "boolean" };
const list = (items: JsonSchema): JsonSchema => ({ type: "array", items });
const object = (required: Readonly<Record<string, JsonSchema>>, optional: Readonly<Record<string, JsonSchema>> = {}): JsonSchema => ({
  type: "object",
  required: Object.keys(required),
  properties: { ...required, ...optional },
});

const schemas: Readonly<Record<string, JsonSchema>> = {
  Error: {
    ...object({
      error: {
        ...object({ code: { type: "string", enum: Object.values(ApiErrorCode) }, message: str, diagnostics: list(ref("Diagnostic")) }),
        description: "More fields by code: rejected (refused), dryRun, requiredRole (unauthorized, forbidden).",
      },
    }),
    additionalProperties: false,
  },
  Diagnostic: object(
    { severity: { enum: ["error", "warning"] }, code: str, message: str },
    { hint: str, object: str, path: str, source: object({}, { file: str, line: int, column: int }) },
  ),
  ModelObject: object({ apiVersion: str, kind: str, metadata: object({ name: str }) }, { spec: { type: "object" } }),
  StoredObject: object({ key: str, revision: int, source: { type: "string", description: "Who defines it: file:<path>, api, cli, token:NAME (cli), rollback:N" }, object: ref("ModelObject") }),
  ObjectList: object({ revision: int, items: list(ref("StoredObject")) }),
  Change: object({ key: str, action: { enum: ["created", "updated", "deleted"] } }),
  ChangeReply: object(
    { accepted: bool, dryRun: bool, changed: bool, revision: int, changes: list(ref("Change")), diagnostics: list(ref("Diagnostic")) },
    {
      changeId: { type: "string", description: "chg-<revision>: the id the logs follow this change by" },
      live: bool,
      wait: ref("ChangeWait"),
      rollout: { ...ref("Rollout"), description: "With canary or canaryGroup: the rollout that serves the change to its canary first (docs/rollouts.md)" },
    },
  ),
  Rollout: object(
    {
      id: { type: "integer", description: "The revision it rolls out" },
      fromRevision: int,
      toRevision: int,
      source: str,
      state: { enum: ["canary", "baking", "awaiting-promote", "succeeded", "failed", "aborted"] },
      canary: { oneOf: [object({ share: { type: "number" } }, { next: { ...list({ type: "number" }), description: "The shares of the stages after the first (canary=10%,50%: [50])" } }), object({ group: str })] },
      canaryNodes: list(str),
      bakeMs: int,
      ackTimeoutMs: int,
      manualPromote: bool,
      max5xxIncrease: { type: "number" },
      minRequests: int,
      startedAt: str,
    },
    {
      bakeEndsAt: str,
      endedAt: str,
      reason: { type: "string", description: "Why it failed or was aborted: the NACK text with the node, the ACK deadline, or the 5xx / connect failure numbers" },
      rollbackRevision: int,
      maxConnectFailIncrease: { type: "number" },
      stages: { ...list(list(str)), description: "With several stages (canary=10%,50%): each stage's canary proxies, each holding the previous stage's" },
      stage: { type: "integer", description: "The current stage, from 0, with stages" },
      traffic: {
        ...object({ canary: ref("TrafficCounts"), baseline: ref("TrafficCounts"), updatedAt: str }),
        description: "With serve --metrics-sink-port: what the bake has seen so far, canary against the proxies still on the previous revision",
      },
    },
  ),
  TrafficCounts: object({ requests: int, errors5xx: int, connects: int, connectFailures: int }),
  RolloutStatus: object({
    revision: int,
    rollout: { oneOf: [ref("Rollout"), { type: "null" }] },
    nodes: list(object({ nodeId: str, group: { type: ["string", "null"] }, revision: int, state: ref("SyncState") })),
  }, { heldFiles: { ...list(object({ file: str, since: str, reason: str })), description: "Watched config files changed while the rollout runs: applied once it ends (docs/rollouts.md)" } }),
  ChangeWait: object({ live: bool, targets: int, timeoutMs: int, elapsedMs: int, nodes: list(ref("NodeWait")) }),
  NodeWait: object(
    { node: str, group: str, result: { enum: ["acked", "nacked", "timeout", "disconnected"] }, types: list(str) },
    { message: str, ackedAfterMs: { type: "number" } },
  ),
  RevisionDiff: object({
    from: int,
    to: int,
    objects: list(object({ key: str, action: { enum: ["created", "updated", "deleted"] }, fields: list(object({ path: str }, { before: {}, after: {} })), lines: list(str) })),
  }),
  Diff: object({
    revision: int,
    changes: list(ref("Change")),
    groups: list(object({ group: str, resources: list(object({ typeUrl: str, name: str, action: { enum: ["added", "changed", "removed"] } })) })),
    diagnostics: list(ref("Diagnostic")),
  }),
  SyncState: { enum: ["SYNCED", "STALE", "NACKED"] },
  Status: object(
    {
      revision: int,
      nodes: list(
        object(
          {
            nodeId: str,
            cluster: str,
            group: { type: ["string", "null"] },
            connected: bool,
            streams: int,
            lastSeen: str,
            state: ref("SyncState"),
            types: list(
              object(
                { type: str, typeUrl: str, state: ref("SyncState"), responses: int, nacks: int },
                {
                  currentVersion: str,
                  sentVersion: str,
                  ackedVersion: str,
                  sentAt: str,
                  ackedAt: str,
                  nack: object({ version: str, nonce: str, message: str, at: str }),
                  error: object({ code: str, message: str, version: str, at: str }),
                },
              ),
            ),
          },
          {
            matchesGroup: str,
            revision: { type: "integer", description: "While a rollout runs: the revision this proxy is served" },
            initialSync: { type: "string", enum: ["queued", "syncing"], description: "During a reconnect storm: queued for its turn to sync, or syncing" },
            replica: { type: "string", description: "On PostgreSQL: the replica that serves this proxy (--replica-id)" },
          },
        ),
      ),
      objects: list(
        object(
          { object: str, groups: list(str), targets: int, acknowledged: int },
          {
            rejected: object({
              proxies: int,
              nacks: list(object({ nodeId: str, type: str, message: str, resources: list(str), named: bool })),
            }),
          },
        ),
      ),
    },
    {
      refusals: list(object({ nodeId: str, cluster: str, group: { type: ["string", "null"] }, identity: str, fingerprint256: str, reason: str, at: str })),
      store: ref("StoreHealth"),
      xds: object(
        { openStreams: int, syncingStreams: int, queuedStreams: int, bufferedBytes: int, streamsOverBudget: int, stuckStreamsEnded: int, streamsShed: int, streamsRefused: int },
        { maxStreams: int },
      ),
      fleet: object({
        replica: str,
        replicas: list(object({ id: str, renewedAt: str, expiresAt: str, proxies: int })),
        singletons: list(object({ work: str, replica: str, since: str })),
      }),
    },
  ),
  StoreHealth: object({ kind: { enum: ["sqlite", "postgres"] }, location: str, state: { enum: ["ok", "unavailable"] } }, { reason: str, since: str }),
  ProxyConfig: object({
    nodeId: str,
    cluster: str,
    group: str,
    connected: bool,
    resources: list(
      object(
        { type: str, typeUrl: str, name: str, version: str, state: { enum: ["ACKED", "NACKED", "SENT", "REQUESTED", "DOES_NOT_EXIST"] } },
        { lastUpdated: str, nack: object({ version: str, message: str }), objects: list(str), config: {} },
      ),
    ),
  }),
  Revision: object(
    { revision: int, createdAt: str, source: str, summary: str, changes: list(ref("Change")) },
    { rollout: { ...ref("RolloutSummary"), description: "Set when the revision was rolled out to a canary first (docs/rollouts.md)" } },
  ),
  RolloutSummary: object(
    { id: int, state: { enum: ["canary", "baking", "awaiting-promote", "succeeded", "failed", "aborted"] }, outcome: { enum: ["running", "promoted", "rolled-back"] } },
    { reason: str, rollbackRevision: int, stage: { type: "string", description: "With stages: the current or last reached one, e.g. 1 of 2" } },
  ),
  Token: object({ name: str, role: { enum: ["read", "write", "admin"] }, createdAt: str }),
};

/** Statuses any operation may answer: a refused Host or Origin, a missing or weak token, a wrong method, a fault. */
const everyError = [400, 401, 403, 404, 405, 500];
/** What reading a request body adds (body-budget.ts, read-body.ts, request-origin.ts). */
const bodyErrors = [408, 413, 415, 503];
/** What a change adds: refused (diagnostics), a stale expectedRevision, the store's disk full. */
const changeErrors = [...bodyErrors, 409, 422, 507];
const changeQuery = {
  dryRun: "true: validate and report the changes, store nothing",
  wait: "a duration (30s by default, at most 10m): answer once every targeted proxy ACKed or NACKed the change, or the time is up (docs/admin-api.md § Waiting for the proxies)",
  canary: "roll the change out to this share of the targeted proxies first, e.g. 10%, or in stages, e.g. 10%,50% (docs/rollouts.md)",
  canaryGroup: "roll the change out to this node group first",
  bake: "with a canary: how long it runs the change after ACKing it before the rest gets it (60s by default)",
  ackTimeout: "with a canary: a canary proxy that has not ACKed within this fails the rollout (30s by default)",
  manualPromote: "true, with a canary: after the bake, wait for POST /api/v1/rollout/promote",
  max5xxIncrease: "with a canary and serve --metrics-sink-port: the bake fails when the canary's 5xx share exceeds the rest's by more than this, e.g. 5% (the default)",
  maxConnectFailIncrease: "with a canary and serve --metrics-sink-port: the bake fails when the canary's share of failed upstream connection attempts exceeds the rest's by more than this, e.g. 5% (the default)",
  minRequests: "with a canary: canary requests (connection attempts, for connect failures) needed over the bake before its shares are judged (20 by default)",
};

/**
 * Every operation of the admin API. A new endpoint is one entry here, e.g.
 * `{ method: "get", path: "/metrics", summary: "Prometheus metrics", role: "read", ok: { "200": { text: "text/plain" } } }`;
 * until it has one, the tests fail on its answers (openapi-check.ts).
 */
const operations: readonly Operation[] = [
  { method: "get", path: "/healthz", summary: "Liveness, with the stored revision", role: "none", ok: { "200": object({ status: { enum: ["ok", "degraded"] }, revision: int }, { store: ref("StoreHealth") }) } },
  { method: "get", path: "/metrics", summary: "Prometheus metrics (docs/metrics.md)", role: "read", ok: { "200": { text: "text/plain" } } },
  { method: "get", path: "/", summary: "The web dashboard (docs/dashboard.md)", role: "none", ok: { "200": { text: "text/html" } } },
  { method: "get", path: "/dashboard/dashboard.js", summary: "The dashboard's script", role: "none", ok: { "200": { text: "text/javascript" } } },
  { method: "get", path: "/dashboard/dashboard.css", summary: "The dashboard's style", role: "none", ok: { "200": { text: "text/css" } } },
  { method: "get", path: "/dashboard/favicon.svg", summary: "The dashboard's icon", role: "none", ok: { "200": { text: "image/svg+xml" } } },
  {
    method: "get",
    path: "/api/v1/events",
    summary: "Server-sent events: `revision` and `status` hashes when either changes, at most 4 a second (docs/dashboard.md)",
    role: "read",
    ok: { "200": { text: "text/event-stream" } },
  },
  {
    method: "get",
    path: "/api/v1/history/diff",
    summary: "What changed from revision `from` to revision `to`, object by object, redacted",
    role: "read",
    query: { from: "a revision (required)", to: "a revision (default: the current one)" },
    ok: { "200": ref("RevisionDiff") },
    errors: [410],
  },
  { method: "get", path: "/api/v1/version", summary: "Server version and stored revision", role: "read", ok: { "200": object({ version: str, revision: int }) } },
  { method: "get", path: "/api/v1/openapi.json", summary: "This document", role: "read", ok: { "200": { type: "object", required: ["openapi", "paths"] } } },
  { method: "get", path: "/api/v1/objects", summary: "Every stored object", role: "read", ok: { "200": ref("ObjectList") } },
  { method: "get", path: "/api/v1/objects/{kind}", summary: "The stored objects of one kind", role: "read", ok: { "200": ref("ObjectList") } },
  { method: "get", path: "/api/v1/objects/{kind}/{name}", summary: "One stored object", role: "read", ok: { "200": ref("StoredObject") } },
  {
    method: "put",
    path: "/api/v1/objects/{kind}/{name}",
    summary: "Create or replace one object (YAML or JSON body)",
    role: "write",
    query: { ...changeQuery, expectedRevision: "the revision you read (0: must not exist yet); also If-Match" },
    body: ref("ModelObject"),
    ok: { "200": ref("ChangeReply") },
    errors: changeErrors,
  },
  {
    method: "delete",
    path: "/api/v1/objects/{kind}/{name}",
    summary: "Delete one object",
    role: "write",
    query: { ...changeQuery, expectedRevision: "the revision you read; also If-Match" },
    ok: { "200": ref("ChangeReply") },
    errors: changeErrors,
  },
  {
    method: "post",
    path: "/api/v1/apply",
    summary: "Create or update every object of the body as one revision (YAML documents, a JSON object, list or {items})",
    role: "write",
    query: changeQuery,
    body: { oneOf: [ref("ModelObject"), list(ref("ModelObject")), object({ items: list(ref("ModelObject")) })] },
    ok: { "200": ref("ChangeReply") },
    errors: changeErrors,
  },
  { method: "post", path: "/api/v1/validate", summary: "Judge objects as apply would, store nothing", role: "read", body: { type: ["object", "array"] }, ok: { "200": ref("ChangeReply") }, errors: changeErrors },
  { method: "post", path: "/api/v1/diff", summary: "What applying the body would change, per node group", role: "read", body: { type: ["object", "array"] }, ok: { "200": ref("Diff") }, errors: changeErrors },
  {
    method: "post",
    path: "/api/v1/delete",
    summary: "Delete several objects as one revision",
    role: "write",
    query: changeQuery,
    body: object({ keys: list(str) }),
    ok: { "200": ref("ChangeReply") },
    errors: changeErrors,
  },
  { method: "get", path: "/api/v1/status", summary: "Per proxy and type: SYNCED, STALE or NACKED; per object: acknowledged and rejected", role: "read", ok: { "200": ref("Status") } },
  {
    method: "get",
    path: "/api/v1/proxies/{node}/config",
    summary: "What the control plane sent one proxy, per resource",
    role: "read",
    query: { type: "clusters, listeners, routes, endpoints, secrets or all (default)", contents: "false: names and versions only" },
    ok: { "200": ref("ProxyConfig") },
  },
  { method: "get", path: "/api/v1/history", summary: "The newest revisions", role: "read", query: { limit: "how many (default 50)" }, ok: { "200": object({ revision: int, items: list(ref("Revision")) }) } },
  {
    method: "get",
    path: "/api/v1/history/{revision}",
    summary: "One revision, with the object set right after it",
    role: "read",
    ok: { "200": { allOf: [ref("Revision"), object({ objects: list(ref("ModelObject")) })] } },
    errors: [410],
  },
  {
    method: "post",
    path: "/api/v1/history/purge",
    summary: "Delete old revisions for good",
    role: "write",
    body: { oneOf: [object({ before: int }), object({ keep: int })] },
    ok: { "200": object({ revision: int, revisions: int, versions: int, oldest: int }) },
    errors: [...bodyErrors, 507],
  },
  {
    method: "post",
    path: "/api/v1/rollback",
    summary: "A new revision whose object set equals revision N",
    role: "write",
    query: { ...changeQuery, to: "N (or the body's to)" },
    body: object({}, { to: int, dryRun: bool }),
    ok: { "200": ref("ChangeReply") },
    errors: [...changeErrors, 410],
  },
  { method: "get", path: "/api/v1/rollout", summary: "The running rollout, else the latest one (null when none), and the revision each connected proxy is served", role: "read", ok: { "200": ref("RolloutStatus") } },
  { method: "get", path: "/api/v1/rollouts", summary: "Rollouts, newest first", role: "read", query: { limit: "how many (default 50)" }, ok: { "200": object({ items: list(ref("Rollout")) }) } },
  {
    method: "post",
    path: "/api/v1/rollout/promote",
    summary: "Give the running rollout's change to every proxy now",
    role: "write",
    ok: { "200": object({ revision: int, rollout: ref("Rollout") }) },
    errors: [...bodyErrors, 409],
  },
  {
    method: "post",
    path: "/api/v1/rollout/abort",
    summary: "Put the canary back on the previous revision and store a rollback revision",
    role: "write",
    ok: { "200": object({ revision: int, rollout: ref("Rollout") }) },
    errors: [...bodyErrors, 409, 507],
  },
  { method: "get", path: "/api/v1/tokens", summary: "Admin tokens (never their values)", role: "admin", ok: { "200": object({ items: list(ref("Token")) }) } },
  {
    method: "post",
    path: "/api/v1/tokens",
    summary: "Create a token; the answer holds its value, once",
    role: "admin",
    body: object({ name: str, role: { enum: ["read", "write", "admin"] } }),
    ok: { "201": { allOf: [ref("Token"), object({ token: str })] } },
    errors: [...bodyErrors, 409],
  },
  { method: "delete", path: "/api/v1/tokens/{name}", summary: "Revoke a token", role: "admin", ok: { "200": object({ revoked: str }) } },
  {
    method: "get",
    path: "/api/v1/bootstrap",
    summary: "An Envoy bootstrap (YAML) for a node",
    role: "read",
    query: {
      node: "the node id (required)",
      cluster: "the node's cluster",
      adminPort: "Envoy's admin port",
      delta: "true: Delta xDS",
      xdsAddress: "HOST:PORT of a control-plane replica; repeat it for each (default: this server's xDS address)",
      xdsRetryBase: "xDS reconnect backoff base, e.g. 100ms (default: Envoy's 500ms for one address, 100ms for several)",
      xdsRetryMax: "xDS reconnect backoff cap, e.g. 5s (default: Envoy's 30s for one address, 5s for several)",
      xdsConnectTimeout: "connect timeout to a replica, e.g. 500ms (default: 1s for one address, 500ms for several)",
    },
    ok: { "200": { text: "application/yaml" } },
  },
];

const errorResponse = { description: "An error: `{ error: { code, message, diagnostics } }`", content: { "application/json": { schema: ref("Error") } } };

function pathParameters(path: string): unknown[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: str }));
}

function buildOperation(op: Operation): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(op.ok)) {
    responses[status] = isText(schema)
        ? { description: "Text", content: { [schema.text]: { schema: str } } }
        : // Accept: application/yaml answers the same value as YAML.
          { description: "OK", content: { "application/json": { schema }, "application/yaml": { schema } } };
  }
  for (const status of [...new Set([...everyError, ...(op.errors ?? [])])].sort()) responses[String(status)] = { $ref: "#/components/responses/Error" };
  const parameters = [...pathParameters(op.path), ...Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: "query", required: false, description, schema: str }))];
  return {
    summary: op.summary,
    ...(op.role === "none" ? { security: [] } : { "x-required-role": op.role }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body !== undefined ? { requestBody: { content: { "application/json": { schema: op.body }, "application/yaml": { schema: op.body } } } } : {}),
    responses,
  };
}

function buildDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) paths[op.path] = { ...paths[op.path], [op.method]: buildOperation(op) };
  return {
    openapi: "3.1.0",
    info: {
      title: "ts-control-plane admin API",
      version: packageVersion,
      description: "Objects, changes, history, status and tokens of the control plane (docs/admin-api.md). Tokens are asked for with serve --admin-auth token; x-required-role names the role an operation needs.",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      responses: { Error: errorResponse },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}

/** The admin API's OpenAPI 3.1 document, built once. */
export const openApiDocument: Readonly<Record<string, unknown>> = buildDocument();
