import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createSnapshotCache, createXdsServer, type NodeStatus, StatusRegistry, type CsdsLimits } from "@ts-control-plane/xds";
import type { AdminAuth } from "./admin/admin-auth.ts";
import { createAdminServer } from "./admin/admin-server.ts";
import { createControlPlaneMetrics } from "./admin/control-plane-metrics.ts";
import { type AdminExchange, openApiChecker } from "./admin/openapi-check.ts";
import { authorizeCsds } from "./admin/authorize-csds.ts";
import { identityProblem } from "./model/node-group-spec.ts";
import { redactingLog } from "./log/redact-secrets.ts";
import { redactResource } from "./status/redact-resource.ts";
import { oneLineLog } from "./log/one-line.ts";
import { createLogger, defaultLogFormat, type LogFormat, type Logger, type LogLevel, lineLogger, logFormats, logLevels, logTo } from "./log/logger.ts";
import { waitForChange } from "./reconciler/change-waiter.ts";
import { changeIdOf } from "./log/change-id.ts";
import { ensureAdminToken } from "./admin/ensure-admin-token.ts";
import { openTokenStore } from "./admin/token-store.ts";
import { createReconciler } from "./reconciler/reconciler.ts";
import { groupOfKey } from "./rollout/node-revision.ts";
import { createTrafficSink, type TrafficSink } from "./status/traffic-sink.ts";
import { createRolloutController, type RolloutController } from "./rollout/rollout-controller.ts";
import { createFileSources, type HeldFile } from "./sources/file-sources.ts";
import { heldChangeReason, storedRunningRollout } from "./rollout/held-change-reason.ts";
import { formatDiagnostic } from "./sources/format-diagnostic.ts";
import { readConfigFile } from "./sources/read-config-file.ts";
import { bindPort } from "./startup/bind-port.ts";
import { checkAdminExposure } from "./startup/check-admin-exposure.ts";
import { buildProxyConfig } from "./status/proxy-config.ts";
import { buildStatusReport } from "./status/status-report.ts";
import { authorizeNodeGroup } from "./status/authorize-node-group.ts";
import { NodeRefusals } from "./status/node-refusals.ts";
import { isLoopbackHost } from "./startup/is-loopback-host.ts";
import { lockDataDir } from "./store/data-dir-lock.ts";
import type { ObjectStore } from "./store/object-store.ts";
import { StartupError, StartupErrorCode } from "./startup/startup-error.ts";
import { type BodyCipher, createBodyCipher, readStoreKeyFile } from "./store/body-cipher.ts";
import { openServeStore } from "./store/open-serve-store.ts";
import { openPostgresStore } from "./store/postgres-store.ts";
import { defaultReplicaLease, type FleetStatus, startFleetStatus } from "./store/fleet-status.ts";
import { type SingletonLease, singletonWork, startSingletonLease } from "./store/singleton-lease.ts";
import { StoreError } from "./store/store-error.ts";

export interface ServeOptions {
  readonly xdsHost: string;
  /** 0 picks a free port (tests); the bound ports are in the result and the ready line. */
  readonly xdsPort: number;
  readonly adminHost: string;
  readonly adminPort: number;
  /** Holds control-plane.db. */
  readonly dataDir: string;
  /** Watched files or directories (--config, repeatable). */
  readonly configPaths: readonly string[];
  /** Loaded when the store is empty and no --config is given, so a bare `npm start` serves something useful. */
  readonly examplePath?: string | undefined;
  readonly debounceMs?: number;
  /** Start even when the store is empty or damaged although the last run had objects (issue 14); see docs/cli/serve.md. */
  readonly allowEmptyStore?: boolean;
  readonly controlPlaneId?: string;
  /**
   * This replica's identifier on PostgreSQL (`--replica-id`, env CONTROL_PLANE_REPLICA_ID): the fleet
   * view names it for each proxy it serves, and it is sent to Envoy as `control_plane.identifier`.
   * Default `<hostname>:<admin port>`.
   */
  readonly replicaId?: string;
  /** On PostgreSQL: the replica's lease on the fleet view, renewed every renewMs, expiring after leaseMs (docs/postgres-replicas.md). */
  readonly replicaLease?: { readonly leaseMs?: number; readonly renewMs?: number };
  /** Receives each event's message as one redacted line (embedding, tests); without it, `logger` or one built from logLevel/logFormat writes to standard output. */
  readonly log?: (line: string) => void;
  /** Where events go (log/logger.ts); wins over log, logLevel and logFormat. */
  readonly logger?: Logger;
  /** `--log-level`: info by default. */
  readonly logLevel?: LogLevel;
  /** `--log-format`: json when standard output is not a terminal, text when it is. */
  readonly logFormat?: LogFormat;
  /** "token": bearer tokens with roles (docs/admin-api.md § Authentication); "none" (default) only on loopback. */
  readonly adminAuth?: "none" | "token";
  /** Extra Host names the admin API answers to (--admin-allowed-host), e.g. behind a proxy. */
  readonly adminAllowedHosts?: readonly string[];
  /** Lets RawResources name files on Envoy's host (DataSource filename); refused by default. */
  readonly allowRawFilename?: boolean;
  /**
   * `--store postgres://user@host:port/db` (env CONTROL_PLANE_STORE): N replicas share one
   * PostgreSQL database (docs/postgres-replicas.md); the embedded SQLite file in dataDir when absent.
   */
  readonly store?: string;
  /** A file with the 32-byte key that encrypts object bodies in the store (`--store-key-file`, store/body-cipher.ts). */
  readonly storeKeyFile?: string;
  /**
   * xDS over TLS: the server's certificate and key; with clientCaFile, mTLS
   * (client certificates required, and NodeGroup spec.identities enforced).
   * Re-read when the files change. Plaintext when absent.
   */
  readonly xdsTls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | undefined } | undefined;
  /**
   * Client certificate identities of operators that may read CSDS over mTLS
   * (`--csds-identity`). With security on (adminAuth "token" or a client CA),
   * CSDS needs one of these or an admin token of role read (issue 13).
   */
  readonly csdsIdentities?: readonly string[];
  /**
   * Bounds on what untrusted xDS clients can make the server hold (issue 14;
   * docs/xds-protocol.md § Bounded memory); the library's defaults when absent.
   */
  readonly xdsLimits?: XdsLimits;
  /** Sees every admin API answer as it goes out (AdminServerOptions.onReply); the tests check them against the OpenAPI document. */
  readonly onAdminReply?: (exchange: AdminExchange) => void;
  /**
   * Logs every admin API answer that does not match the OpenAPI document
   * (env CONTROL_PLANE_CHECK_OPENAPI=1): how the end-to-end tests check a control plane they run as a process.
   */
  readonly checkOpenApi?: boolean;
  /**
   * Serves Envoy's gRPC MetricsService on this port (`--metrics-sink-port`, 0 picks one), on the
   * xDS host: a rollout's bake is then judged by the canary's 5xx and upstream connect failure shares too (docs/rollouts.md).
   */
  readonly metricsSinkPort?: number;
}

/** The xDS server's memory bounds, as the control plane passes them on. */
export interface XdsLimits {
  /** Largest encoded node a request may carry (XdsServerOptions.maxNodeBytes). */
  readonly maxNodeBytes?: number;
  /** Disconnected proxies kept in status, oldest forgotten first (StatusRegistry maxDisconnected). */
  readonly maxDisconnected?: number;
  /** Disconnected proxies leave status after this long; default one hour. */
  readonly forgetDisconnectedAfterMs?: number;
  /** Most nodes and bytes in one CSDS answer. */
  readonly csds?: CsdsLimits;
  /** Most xDS streams served at once; over it new streams are refused (XdsServerOptions.maxStreams). No cap by default. */
  readonly maxStreams?: number;
  /** Streams doing their initial sync at once, the others queued (XdsServerOptions.maxInitialSyncs); 0 turns it off. */
  readonly maxInitialSyncs?: number;
  /** How long a stream may hold its initial-sync slot without answering (XdsServerOptions.initialSyncTimeoutMs). */
  readonly initialSyncTimeoutMs?: number;
  /** Write budget per stream (XdsServerOptions.maxBufferedBytes). */
  readonly maxBufferedBytes?: number;
  /** A stream over its budget this long is ended with RESOURCE_EXHAUSTED (XdsServerOptions.stuckStreamTimeoutMs); 0 never. */
  readonly stuckStreamTimeoutMs?: number;
  /** The gRPC transport xDS is served on (XdsServerOptions.transport); default "http2". */
  readonly transport?: "http2" | "grpc-js";
}

export interface RunningControlPlane {
  readonly xdsPort: number;
  readonly adminPort: number;
  close(): Promise<void>;
}

export const defaultExamplePath = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples/control-plane/scenario-2.yaml");

export const serveDefaults = {
  xdsHost: "127.0.0.1",
  xdsPort: 18000,
  adminHost: "127.0.0.1",
  adminPort: 9000,
  dataDir: "./.data",
} as const;

/** The logger `serve` writes with: an embedder's, a line sink's, or standard output's (docs/logging.md). */
function serveLogger(options: Pick<ServeOptions, "log" | "logger" | "logLevel" | "logFormat">): Logger {
  if (options.logger !== undefined) return options.logger;
  if (options.log !== undefined) return lineLogger(options.log, options.logLevel === undefined ? {} : { level: options.logLevel });
  return createLogger({ format: options.logFormat ?? defaultLogFormat(process.stdout), ...(options.logLevel === undefined ? {} : { level: options.logLevel }) });
}

/** Disconnected proxies leave status after an hour, so node id churn cannot grow memory forever. */
const defaultForgetDisconnectedAfterMs = 3_600_000;

/**
 * The composition root: store -> reconciler -> snapshot cache -> xDS server,
 * with file sources and the admin API as the ways in; status is the xDS
 * server's own per-node record (`xds.status`), read by the admin API.
 * The stored configuration is compiled and set on the cache before xDS is
 * served, so Envoys reconnecting after a restart get the very same versions.
 */
export async function serve(options: ServeOptions): Promise<RunningControlPlane> {
  // One event, one line: values from outside (NACK messages, node ids, names) cannot forge lines (issue 14).
  // Every log line goes out with private keys redacted (NACK messages can quote them, issue 13).
  const logger = serveLogger(options);
  const log = oneLineLog(redactingLog(logTo(logger)));
  checkAdminExposure({ adminHost: options.adminHost, adminAuth: options.adminAuth ?? "none" });
  // Two control planes on one store would each serve their own view and overwrite each other's revisions.
  const lock = lockDataDir(options.dataDir);
  // A port of 0 (tests) is not known yet: the process and the data directory (one per replica) tell replicas apart instead.
  const replicaId = options.replicaId ?? `${hostname()}:${options.adminPort === 0 ? `pid${process.pid}-${basename(resolve(options.dataDir))}` : options.adminPort}`;
  const shared = options.store !== undefined;
  let store: ObjectStore;
  try {
    const cipher = options.storeKeyFile !== undefined ? { cipher: storeCipher(options.storeKeyFile) } : {};
    store = options.store === undefined
      ? openServeStore({ dataDir: options.dataDir, allowEmptyStore: options.allowEmptyStore === true, log, ...cipher })
      : await openSharedStore({ url: options.store, log, ...cipher });
  } catch (error) {
    lock.release();
    throw error;
  }
  // The cache key is the node group; the reconciler knows the groups.
  const cache = createSnapshotCache({
    ads: true,
    // The rollout decides per node: its group's key, or the pinned key of the revision it is held on (issue 11).
    nodeKey: (node) => rollouts.keyOf({ id: node.id, cluster: node.cluster, metadata: node.metadata }),
  });
  // Set once the xDS server exists: node-group changes move connected nodes at once.
  let rekeyStreams = (): void => {};
  const metrics = createControlPlaneMetrics({ storedRevision: () => store.currentRevision(), cacheRevision: () => reconciler.state().revision });
  const reconciler = createReconciler({
    store,
    cache,
    metrics: metrics.reconcile,
    onGroupsChanged: () => rekeyStreams(),
    compile: { allowRawFilename: options.allowRawFilename === true, now: Date.now },
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    log,
  });
  // Set up once the xDS server exists (it needs the per-node record); no stream can ask for a key before.
  let rollouts: RolloutController;
  // Revisions another replica wrote are compiled and pushed like our own commits.
  const stopExternal = store.onExternalChange(() => reconciler.refresh());
  /** The controller once set up: file changes are held for a running rollout from the start (issue 11 item 5). */
  let rolloutController: RolloutController | undefined;
  const rolloutIdle = new Set<() => void>();
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release(), () => store.close(), () => stopExternal(), () => reconciler.close()];
  const close = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (error) {
        logger.error(`shutdown: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    cleanups.length = 0;
  };
  try {
    await reconciler.start();
    log(`loaded revision ${store.currentRevision()} with ${store.list().length} objects from ${store.health().location}`);

    if (store.currentRevision() === 0 && options.configPaths.length === 0 && options.examplePath !== undefined && existsSync(options.examplePath)) {
      const parsed = readConfigFile(options.examplePath);
      const outcome = await reconciler.changeNow({ upserts: parsed.objects, source: `example:${options.examplePath}` });
      if (outcome.accepted) log(`the store was empty: loaded the example ${options.examplePath} as revision ${outcome.revision?.revision}`, outcome.revision === undefined ? {} : { changeId: changeIdOf(outcome.revision.revision) });
      else for (const d of [...parsed.diagnostics, ...outcome.diagnostics]) log(`example refused: ${formatDiagnostic(d)}`);
    }

    let heldFiles = (): HeldFile[] => [];
    const startFiles = async (): Promise<() => Promise<void>> => {
      const fileSources = createFileSources({
        paths: options.configPaths,
        store,
        // The admin API's queue: a large file is judged in slices, and in order with API changes (issue 14).
        apply: (plan) => reconciler.change(plan),
        ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs * 2 } : {}),
        log,
        // A file change during a rollout waits for it to end; before the controller exists, a stored running rollout holds them.
        hold: {
          reason: () => {
            if (rolloutController === undefined) {
              const stored = storedRunningRollout(store.rollouts({ limit: 1 }));
              return stored === undefined ? undefined : heldChangeReason(stored);
            }
            return rolloutController.running() ? heldChangeReason(rolloutController.latest()) : undefined;
          },
          onRelease: (listener) => {
            rolloutIdle.add(listener);
            return () => rolloutIdle.delete(listener);
          },
        },
      });
      heldFiles = () => fileSources.held();
      try {
        await fileSources.start();
      } catch (error) {
        // Watchers set up before the failure are closed: a replica that cannot start them holds nothing open.
        heldFiles = () => [];
        await fileSources.close();
        throw error;
      }
      return async () => {
        heldFiles = () => [];
        await fileSources.close();
      };
    };
    if (options.configPaths.length > 0 && !shared) {
      const stopFiles = await startFiles();
      cleanups.push(stopFiles);
    } else if (options.configPaths.length > 0 && options.store !== undefined) {
      // On PostgreSQL the watched files are applied by one replica (issue 10 item 5): N replicas
      // watching N copies would each write every edit, and disagree while the copies differ.
      let stopFiles: (() => Promise<void>) | undefined;
      const filesLease: SingletonLease = startSingletonLease({
        url: options.store,
        replicaId,
        work: singletonWork.fileSources,
        onAcquire: async () => {
          stopFiles = await startFiles();
        },
        onRelease: async () => {
          const stop = stopFiles;
          stopFiles = undefined;
          await stop?.();
        },
        log,
      });
      cleanups.push(() => filesLease.close());
    }
    await reconciler.flush();

    const tls = options.xdsTls;
    if (tls === undefined && !isLoopbackHost(options.xdsHost)) {
      // Plaintext xDS off this machine lets anyone who reaches the port read every secret and route, and pose as any proxy.
      logger.warn(`WARNING: xDS is served WITHOUT TLS on ${options.xdsHost}, reachable from other machines: anyone who reaches it can read the whole configuration (secrets included) and connect as any proxy. Give --xds-tls-cert, --xds-tls-key and --xds-client-ca (docs/cli/serve.md)`);
    }
    let auth: AdminAuth = { mode: "none" };
    if (options.adminAuth === "token") {
      const tokens = openTokenStore({ file: join(options.dataDir, "admin-tokens.json") });
      const written = ensureAdminToken(tokens, { dataDir: options.dataDir });
      if (written !== undefined) log(`admin API authentication is on: wrote the first admin token to ${written} (the CLI on this machine reads it)`);
      auth = { mode: "token", tokens };
    }
    // Security is on with admin tokens or mTLS: then CSDS, which shows every proxy's configuration, needs what the admin API's read role needs.
    const csdsSecured = auth.mode === "token" || tls?.clientCaFile !== undefined;
    const csdsAuthorize = csdsSecured ? { authorize: authorizeCsds({ tokens: auth.mode === "token" ? auth.tokens : undefined, identities: options.csdsIdentities ?? [] }) } : {};
    const refusals = new NodeRefusals();
    // ACKs, NACKs and closed streams change the per-node record: `?wait=` re-reads it then (reconciler/change-waiter.ts).
    const statusListeners = new Set<() => void>();
    /** On PostgreSQL: this replica's proxies in the database, and every live replica's read back (issue 10 item 4). */
    let fleet: FleetStatus | undefined;
    const statusChanged = (): void => {
      fleet?.changed();
      for (const l of statusListeners) l();
    };
    const typeName = (typeUrl: string): string => typeUrl.split(".").pop() ?? typeUrl;
    /** The change whose push produced the version a node answers, from the group the node's stream follows. */
    const changeOfAnswer = (nodeId: string, typeUrl: string, version: string): string | undefined => {
      const key = xds.status.node(nodeId)?.cacheKey;
      return key === undefined ? undefined : reconciler.changeOf(groupOfKey(key, reconciler.pinned()?.revision).group, typeUrl, version);
    };
    const limits = options.xdsLimits ?? {};
    const xds = createXdsServer({
      cache,
      metrics: metrics.xds,
      status: new StatusRegistry({
        forgetAfterMs: limits.forgetDisconnectedAfterMs ?? defaultForgetDisconnectedAfterMs,
        ...(limits.maxDisconnected === undefined ? {} : { maxDisconnected: limits.maxDisconnected }),
      }),
      ...(limits.maxNodeBytes === undefined ? {} : { maxNodeBytes: limits.maxNodeBytes }),
      ...(limits.maxStreams === undefined ? {} : { maxStreams: limits.maxStreams }),
      ...(limits.maxInitialSyncs === undefined ? {} : { maxInitialSyncs: limits.maxInitialSyncs }),
      ...(limits.initialSyncTimeoutMs === undefined ? {} : { initialSyncTimeoutMs: limits.initialSyncTimeoutMs }),
      ...(limits.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: limits.maxBufferedBytes }),
      ...(limits.stuckStreamTimeoutMs === undefined ? {} : { stuckStreamTimeoutMs: limits.stuckStreamTimeoutMs }),
      ...(limits.transport === undefined ? {} : { transport: limits.transport }),
      ...(tls === undefined
        ? {}
        : {
            tls: {
              certFile: tls.certFile,
              keyFile: tls.keyFile,
              ...(tls.clientCaFile === undefined ? {} : { clientCaFile: tls.clientCaFile }),
              onReload: (o) => log(o.ok ? `xDS TLS: re-read ${tls.certFile} and ${tls.keyFile}${tls.clientCaFile === undefined ? "" : ` and ${tls.clientCaFile}`}; new connections use them` : `xDS TLS: the changed files were refused, the previous ones stay in use: ${o.error.message}`),
            },
          }),
      authorize: authorizeNodeGroup({
        groups: () => reconciler.state().groups,
        groupOf: (node) => reconciler.nodeGroupOf(node),
        refusals,
        log,
      }),
      hooks: {
        // The event's version is the one Envoy rejected (what we sent with that nonce).
        onNack: (e) => {
          logger.warn(`NACK from ${e.nodeId} for ${typeName(e.typeUrl)} (rejected version "${e.version}", nonce ${e.nonce}): ${e.message}`, {
            changeId: changeOfAnswer(e.nodeId, e.typeUrl, e.version),
            node: e.nodeId,
            type: typeName(e.typeUrl),
            version: e.version,
          });
          statusChanged();
        },
        onAck: (e) => {
          logger.info(`ACK from ${e.nodeId} for ${typeName(e.typeUrl)} version "${e.version}"`, { changeId: changeOfAnswer(e.nodeId, e.typeUrl, e.version), node: e.nodeId, type: typeName(e.typeUrl), version: e.version });
          statusChanged();
        },
        onStreamOpen: (e) => {
          logger.debug(`xDS stream opened by ${e.nodeId}`, { node: e.nodeId });
          fleet?.changed();
        },
        onStreamClose: (e) => {
          logger.debug(`xDS stream of ${e.nodeId} closed`, { node: e.nodeId });
          statusChanged();
        },
        onHookError: (error, hook) => logger.error(`xDS hook ${hook} failed: ${error instanceof Error ? error.message : String(error)}`),
      },
      // On PostgreSQL each replica names itself, so Envoy's control_plane.identifier says which one it talks to.
      controlPlaneId: options.controlPlaneId ?? (shared || options.replicaId !== undefined ? replicaId : "ts-control-plane"),
      // CSDS answers debugging tools: they get resources with private keys redacted (issue 13).
      csds: { ...limits.csds, redact: redactResource, ...csdsAuthorize },
    });
    rekeyStreams = () => xds.rekey();
    if (options.store !== undefined) {
      const lease = options.replicaLease ?? {};
      try {
        fleet = await startFleetStatus({
          url: options.store,
          replicaId,
          proxies: () => xds.status.nodes(),
          ...(lease.leaseMs === undefined ? {} : { leaseMs: lease.leaseMs }),
          ...(lease.renewMs === undefined ? {} : { renewMs: lease.renewMs }),
          log,
        });
      } catch (error) {
        // The database went away between opening the store and writing the lease: a startup error like the store's own.
        if (error instanceof StoreError) throw new StartupError(StartupErrorCode.StoreUnavailable, error.message);
        throw error;
      }
      const running = fleet;
      const stopFleet = running.onChange(() => {
        for (const l of statusListeners) l();
      });
      cleanups.push(() => running.close(), stopFleet);
      log(`replica ${replicaId}: the fleet view lists the proxies of every live replica (lease ${lease.leaseMs ?? defaultReplicaLease.leaseMs} ms, renewed every ${lease.renewMs ?? defaultReplicaLease.renewMs} ms)`);
    }
    let traffic: TrafficSink | undefined;
    let metricsSinkPort: number | undefined;
    if (options.metricsSinkPort !== undefined) {
      const sink = createTrafficSink({ log });
      const port = await bindPort(() => sink.listen({ host: options.xdsHost, port: options.metricsSinkPort ?? 0 }), {
        what: "metrics sink",
        host: options.xdsHost,
        port: options.metricsSinkPort,
        flags: "--metrics-sink-port",
        hostFlags: "--xds-host (env CONTROL_PLANE_XDS_HOST)",
      });
      cleanups.push(() => sink.close());
      traffic = sink;
      metricsSinkPort = port;
      log(`metrics sink: Envoy's MetricsService on ${options.xdsHost}:${port}; rollouts judge the canary's 5xx and upstream connect failure shares`);
    }
    rollouts = createRolloutController({
      ...(traffic === undefined ? {} : { traffic }),
      store,
      reconciler,
      proxies: () => xds.status.nodes(),
      onStatusChange: (l) => {
        statusListeners.add(l);
        return () => statusListeners.delete(l);
      },
      rekey: () => xds.rekey(),
      log,
    });
    rolloutController = rollouts;
    rollouts.onIdle(() => {
      for (const l of rolloutIdle) l();
    });
    // Before xDS is served: reconnecting proxies find the revision a running rollout holds them on.
    await rollouts.resume();
    const xdsPort = await bindPort(() => xds.listen({ host: options.xdsHost, port: options.xdsPort }), {
      what: "xDS",
      host: options.xdsHost,
      port: options.xdsPort,
      flags: "--xds-port (env CONTROL_PLANE_XDS_PORT)",
      hostFlags: "--xds-host (env CONTROL_PLANE_XDS_HOST)",
    });
    cleanups.push(() => xds.close({ graceMs: 200 }));
    if (limits.transport === "grpc-js") log("xDS transport: @grpc/grpc-js (--xds-transport grpc-js), in place of the server's own node:http2 one");
    // Runs before xDS closes (cleanups run last first): streams ending at shutdown are not a canary's failure.
    cleanups.push(() => rollouts.close());
    if (csdsSecured) {
      const ways = [...(auth.mode === "token" ? ["an admin token of role read"] : []), ...(options.csdsIdentities ?? []).map((i) => `certificate identity ${JSON.stringify(i)}`)];
      log(`CSDS needs ${ways.length === 0 ? "an operator identity, and none is listed (--csds-identity): nobody can read it" : ways.join(" or ")}`);
    }
    if (tls !== undefined) log(`xDS TLS: ${tls.clientCaFile === undefined ? "server certificate only (clients are not verified)" : `mTLS, client certificates must chain to ${tls.clientCaFile}`}; certificate ${tls.certFile}`);

    const checkOpenApi = options.checkOpenApi === true ? openApiChecker() : undefined;
    const onReply =
      checkOpenApi === undefined
        ? options.onAdminReply
        : (exchange: AdminExchange) => {
            options.onAdminReply?.(exchange);
            const problem = checkOpenApi(exchange);
            if (problem !== undefined) log(`openapi mismatch: ${problem}`);
          };
    const admin = createAdminServer({
      auth,
      ...(onReply !== undefined ? { onReply } : {}),
      ...(options.adminAllowedHosts !== undefined ? { allowedHosts: options.adminAllowedHosts } : {}),
      store,
      reconciler,
      rollouts,
      heldFiles: () => heldFiles(),
      metrics,
      xds: { host: options.xdsHost, port: xdsPort, ...(metricsSinkPort === undefined ? {} : { metricsSinkPort }) },
      log,
      waitForChange: (w) =>
        waitForChange({
          ...w,
          current: () => reconciler.state().snapshots,
          proxies: () => xds.status.nodes(),
          onStatusChange: (l) => {
            statusListeners.add(l);
            return () => statusListeners.delete(l);
          },
        }),
      proxyConfig: (nodeId, opts) =>
        buildProxyConfig(nodeId, { status: xds.status, cache, resourceVersions: xds.resourceVersions }, {
          ...opts,
          resourceObjects: (key) => reconciler.state().groups.find((g) => g.name === groupOfKey(key, reconciler.pinned()?.revision).group)?.resourceObjects,
        }),
      status: () => {
        const state = reconciler.state();
        const pinned = reconciler.pinned();
        const groupOfStream = (key: string) => groupOfKey(key, pinned?.revision);
        // On PostgreSQL: every live replica's proxies, each with the replica that serves it.
        const fleetProxies = fleet?.proxies();
        const remote = new Map(fleetProxies?.filter((p) => p.replica !== replicaId).map((p) => [p.proxy, p.replica]));
        const report = buildStatusReport({
          revision: state.revision,
          proxies: fleetProxies === undefined ? xds.status.nodes() : fleetProxies.map((p) => p.proxy),
          xdsLoad: xds.metrics,
          ...(fleetProxies === undefined ? {} : { replicaOf: (p: NodeStatus) => remote.get(p) ?? replicaId }),
          // The stream's own key: a stream keeps the group it opened with until re-keyed.
          groupOf: (p) => groupOfStream(p.cacheKey).group,
          rolloutOf: (p) => {
            const revision = rollouts.servedRevisionOf(p.cacheKey);
            const held = groupOfStream(p.cacheKey);
            return revision === undefined ? undefined : { revision, snapshot: held.revision === undefined ? undefined : pinned?.snapshots.get(held.group) };
          },
          // A disconnected proxy keeps no metadata (slim status record) and is served nothing: it stays in its last group.
          // Another replica's proxy comes without its metadata: the group its stream follows is what we know.
          matchingGroupOf: (p) => (p.streams === 0 || remote.has(p) ? groupOfStream(p.cacheKey).group : reconciler.nodeGroupOf({ id: p.nodeId, cluster: p.nodeCluster, metadata: p.node?.metadata })),
          snapshotOf: (g) => state.snapshots.get(g),
          groups: state.groups,
          refusals: refusals.list(),
        });
        return {
          ...report,
          store: store.health(),
          ...(fleet === undefined ? {} : { fleet: { replica: replicaId, replicas: fleet.replicas(), singletons: fleet.singletons() } }),
        };
      },
    });
    const adminPort = await bindPort(() => admin.listen({ host: options.adminHost, port: options.adminPort }), {
      what: "admin API",
      host: options.adminHost,
      port: options.adminPort,
      flags: "--admin-port (env CONTROL_PLANE_ADMIN_PORT)",
      hostFlags: "--admin-host (env CONTROL_PLANE_ADMIN_HOST)",
    });
    cleanups.push(() => admin.close());
    // Tests and scripts wait for this exact line.
    log(`control plane ready: xds=${options.xdsHost}:${xdsPort} admin=http://${options.adminHost}:${adminPort} revision=${store.currentRevision()}`);
    return { xdsPort, adminPort, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "usage";
}

/** `serve` flags; environment variables give defaults, flags win. */
export function parseServeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): ServeOptions {
  const port = (value: string | undefined, flag: string): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} needs a port number (0-65535), got ${JSON.stringify(value)}`);
    return n;
  };
  let xdsHost = env["CONTROL_PLANE_XDS_HOST"] ?? serveDefaults.xdsHost;
  let xdsPort = env["CONTROL_PLANE_XDS_PORT"] !== undefined ? port(env["CONTROL_PLANE_XDS_PORT"], "CONTROL_PLANE_XDS_PORT") : serveDefaults.xdsPort;
  let adminHost = env["CONTROL_PLANE_ADMIN_HOST"] ?? serveDefaults.adminHost;
  let adminPort = env["CONTROL_PLANE_ADMIN_PORT"] !== undefined ? port(env["CONTROL_PLANE_ADMIN_PORT"], "CONTROL_PLANE_ADMIN_PORT") : serveDefaults.adminPort;
  let dataDir = env["CONTROL_PLANE_DATA_DIR"] ?? serveDefaults.dataDir;
  let debounceMs: number | undefined;
  let example = true;
  let allowEmptyStore = false;
  let adminAuth: "none" | "token" = "none";
  const authValue = (v: string, from: string): "none" | "token" => {
    if (v !== "none" && v !== "token") throw new UsageError(`${from} takes none or token, got ${JSON.stringify(v)}`);
    return v;
  };
  if (env["CONTROL_PLANE_ADMIN_AUTH"] !== undefined) adminAuth = authValue(env["CONTROL_PLANE_ADMIN_AUTH"], "CONTROL_PLANE_ADMIN_AUTH");
  const adminAllowedHosts: string[] = [];
  let allowRawFilename = false;
  let tlsCert = env["CONTROL_PLANE_XDS_TLS_CERT"] || undefined;
  let tlsKey = env["CONTROL_PLANE_XDS_TLS_KEY"] || undefined;
  let clientCa = env["CONTROL_PLANE_XDS_CLIENT_CA"] || undefined;
  let storeKeyFile = env["CONTROL_PLANE_STORE_KEY_FILE"] || undefined;
  const storeUrl = (v: string, from: string): string => {
    if (!/^postgres(ql)?:\/\/./.test(v)) throw new UsageError(`${from} takes a PostgreSQL URL such as postgres://user@host:5432/db, got ${JSON.stringify(v)}; leave it out for the embedded SQLite store in --data-dir`);
    return v;
  };
  let store = env["CONTROL_PLANE_STORE"] ? storeUrl(env["CONTROL_PLANE_STORE"], "CONTROL_PLANE_STORE") : undefined;
  const csdsIdentity = (v: string, from: string): string => {
    const problem = identityProblem(v);
    if (problem !== undefined) throw new UsageError(`${from}: identity ${JSON.stringify(v)} is not valid: ${problem}; write a URI SAN such as spiffe://example.org/ops/alice, dns:NAME or cn:NAME`);
    return v;
  };
  // Flags replace the environment's list rather than add to it, as for every other flag.
  const envCsdsIdentities = (env["CONTROL_PLANE_CSDS_IDENTITIES"] ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "").map((v) => csdsIdentity(v, "CONTROL_PLANE_CSDS_IDENTITIES"));
  const flagCsdsIdentities: string[] = [];
  const configPaths: string[] = [];
  // The library's xDS limits (issue 14; docs/xds-protocol.md § Bounded memory), checked here with the flag's name.
  const limits: {
    maxNodeBytes?: number;
    maxDisconnected?: number;
    forgetDisconnectedAfterMs?: number;
    csdsMaxNodes?: number;
    csdsMaxResponseBytes?: number;
    maxStreams?: number;
    maxInitialSyncs?: number;
    initialSyncTimeoutMs?: number;
    maxBufferedBytes?: number;
    stuckStreamTimeoutMs?: number;
    transport?: "http2" | "grpc-js";
  } = {};
  const count = (v: string, from: string, min: number, what: string): number => {
    const n = Number(v);
    if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${from} needs a whole number of ${what} >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const xdsTransports = ["http2", "grpc-js"] as const;
  const oneOf = <T extends string>(allowed: readonly T[], v: string, from: string): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${from} takes ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  let logLevel = env["CONTROL_PLANE_LOG_LEVEL"] ? oneOf(logLevels, env["CONTROL_PLANE_LOG_LEVEL"], "CONTROL_PLANE_LOG_LEVEL") : undefined;
  let metricsSinkPort: number | undefined;
  let replicaId = env["CONTROL_PLANE_REPLICA_ID"] || undefined;
  const replicaLease: { leaseMs?: number; renewMs?: number } = {};
  let logFormat = env["CONTROL_PLANE_LOG_FORMAT"] ? oneOf(logFormats, env["CONTROL_PLANE_LOG_FORMAT"], "CONTROL_PLANE_LOG_FORMAT") : undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--xds-host":
        xdsHost = value();
        break;
      case "--xds-port":
        xdsPort = port(value(), flag);
        break;
      case "--admin-host":
        adminHost = value();
        break;
      case "--admin-port":
        adminPort = port(value(), flag);
        break;
      case "--data-dir":
        dataDir = value();
        break;
      case "--config":
      case "-c":
        configPaths.push(value());
        break;
      case "--debounce-ms":
        debounceMs = port(value(), flag);
        break;
      case "--no-example":
        example = false;
        break;
      case "--allow-empty-store":
        allowEmptyStore = true;
        break;
      case "--admin-auth":
        adminAuth = authValue(value(), flag);
        break;
      case "--admin-allowed-host":
        adminAllowedHosts.push(value());
        break;
      case "--allow-raw-filename":
        allowRawFilename = true;
        break;
      case "--xds-tls-cert":
        tlsCert = value();
        break;
      case "--xds-tls-key":
        tlsKey = value();
        break;
      case "--xds-client-ca":
        clientCa = value();
        break;
      case "--store":
        store = storeUrl(value(), flag);
        break;
      case "--store-key-file":
        storeKeyFile = value();
        break;
      case "--csds-identity":
        flagCsdsIdentities.push(csdsIdentity(value(), flag));
        break;
      case "--xds-max-node-bytes":
        limits.maxNodeBytes = count(value(), flag, 1024, "bytes");
        break;
      case "--xds-max-disconnected":
        limits.maxDisconnected = count(value(), flag, 0, "proxies");
        break;
      case "--xds-forget-disconnected-ms":
        limits.forgetDisconnectedAfterMs = count(value(), flag, 0, "milliseconds");
        break;
      // Load limits (issue 15, issue 10 item 6; docs/xds-protocol.md § Load limits).
      case "--xds-max-streams":
        limits.maxStreams = count(value(), flag, 0, "streams");
        break;
      case "--xds-max-initial-syncs":
        limits.maxInitialSyncs = count(value(), flag, 0, "streams");
        break;
      case "--xds-initial-sync-timeout-ms":
        limits.initialSyncTimeoutMs = count(value(), flag, 1, "milliseconds");
        break;
      case "--xds-max-buffered-bytes":
        limits.maxBufferedBytes = count(value(), flag, 1024, "bytes");
        break;
      case "--xds-stuck-stream-timeout-ms":
        limits.stuckStreamTimeoutMs = count(value(), flag, 0, "milliseconds");
        break;
      // A way back to @grpc/grpc-js without a rebuild, should the server's own transport misbehave somewhere.
      case "--xds-transport":
        limits.transport = oneOf(xdsTransports, value(), flag);
        break;
      case "--csds-max-nodes":
        limits.csdsMaxNodes = count(value(), flag, 1, "nodes");
        break;
      case "--csds-max-response-bytes":
        limits.csdsMaxResponseBytes = count(value(), flag, 1, "bytes");
        break;
      case "--log-level":
        logLevel = oneOf(logLevels, value(), flag);
        break;
      case "--log-format":
        logFormat = oneOf(logFormats, value(), flag);
        break;
      case "--metrics-sink-port":
        metricsSinkPort = port(value(), flag);
        break;
      case "--replica-id":
        replicaId = value();
        break;
      case "--replica-lease-ms":
        replicaLease.leaseMs = count(value(), flag, 1_000, "milliseconds");
        break;
      case "--replica-renew-ms":
        replicaLease.renewMs = count(value(), flag, 100, "milliseconds");
        break;
      default:
        throw new UsageError(`unknown flag ${JSON.stringify(arg)} for serve`);
    }
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new UsageError(`xDS TLS needs both --xds-tls-cert and --xds-tls-key (env CONTROL_PLANE_XDS_TLS_CERT, CONTROL_PLANE_XDS_TLS_KEY); only ${tlsCert === undefined ? "the key" : "the certificate"} was given`);
  }
  if (clientCa !== undefined && tlsCert === undefined) {
    throw new UsageError("--xds-client-ca (env CONTROL_PLANE_XDS_CLIENT_CA) needs --xds-tls-cert and --xds-tls-key: mTLS is TLS with client certificates");
  }
  if ((replicaLease.leaseMs !== undefined || replicaLease.renewMs !== undefined) && store === undefined) {
    throw new UsageError("--replica-lease-ms and --replica-renew-ms need --store postgres://… (env CONTROL_PLANE_STORE): leases are how replicas sharing one database see each other's proxies");
  }
  const { leaseMs, renewMs } = { ...defaultReplicaLease, ...replicaLease };
  if (renewMs >= leaseMs) {
    throw new UsageError(`--replica-renew-ms (${renewMs}) must be shorter than --replica-lease-ms (${leaseMs}), or the lease expires between renewals; e.g. a third of it`);
  }
  const csdsIdentities = [...new Set(flagCsdsIdentities.length > 0 ? flagCsdsIdentities : envCsdsIdentities)];
  const csdsLimits = {
    ...(limits.csdsMaxNodes === undefined ? {} : { maxNodes: limits.csdsMaxNodes }),
    ...(limits.csdsMaxResponseBytes === undefined ? {} : { maxResponseBytes: limits.csdsMaxResponseBytes }),
  };
  const xdsLimits: XdsLimits = {
    ...(limits.maxNodeBytes === undefined ? {} : { maxNodeBytes: limits.maxNodeBytes }),
    ...(limits.maxDisconnected === undefined ? {} : { maxDisconnected: limits.maxDisconnected }),
    ...(limits.forgetDisconnectedAfterMs === undefined ? {} : { forgetDisconnectedAfterMs: limits.forgetDisconnectedAfterMs }),
    ...(Object.keys(csdsLimits).length === 0 ? {} : { csds: csdsLimits }),
    ...(limits.maxStreams === undefined ? {} : { maxStreams: limits.maxStreams }),
    ...(limits.maxInitialSyncs === undefined ? {} : { maxInitialSyncs: limits.maxInitialSyncs }),
    ...(limits.initialSyncTimeoutMs === undefined ? {} : { initialSyncTimeoutMs: limits.initialSyncTimeoutMs }),
    ...(limits.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: limits.maxBufferedBytes }),
    ...(limits.stuckStreamTimeoutMs === undefined ? {} : { stuckStreamTimeoutMs: limits.stuckStreamTimeoutMs }),
    ...(limits.transport === undefined ? {} : { transport: limits.transport }),
  };
  if (csdsIdentities.length > 0 && clientCa === undefined) {
    throw new UsageError("--csds-identity (env CONTROL_PLANE_CSDS_IDENTITIES) needs --xds-client-ca: an identity is read from a verified client certificate, so it needs mTLS");
  }
  return {
    xdsHost,
    xdsPort,
    adminHost,
    adminPort,
    dataDir,
    configPaths,
    examplePath: example ? defaultExamplePath : undefined,
    ...(debounceMs !== undefined ? { debounceMs } : {}),
    ...(allowEmptyStore ? { allowEmptyStore } : {}),
    ...(adminAuth !== "none" ? { adminAuth } : {}),
    ...(adminAllowedHosts.length > 0 ? { adminAllowedHosts } : {}),
    ...(allowRawFilename ? { allowRawFilename } : {}),
    ...(storeKeyFile !== undefined ? { storeKeyFile } : {}),
    ...(store !== undefined ? { store } : {}),
    ...(csdsIdentities.length > 0 ? { csdsIdentities } : {}),
    ...(Object.keys(xdsLimits).length > 0 ? { xdsLimits } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
    ...(logFormat !== undefined ? { logFormat } : {}),
    ...(metricsSinkPort !== undefined ? { metricsSinkPort } : {}),
    ...(replicaId !== undefined ? { replicaId } : {}),
    ...(Object.keys(replicaLease).length > 0 ? { replicaLease } : {}),
    ...(env["CONTROL_PLANE_CHECK_OPENAPI"] === "1" ? { checkOpenApi: true } : {}),
    ...(tlsCert !== undefined && tlsKey !== undefined ? { xdsTls: { certFile: tlsCert, keyFile: tlsKey, ...(clientCa === undefined ? {} : { clientCaFile: clientCa }) } } : {}),
  };
}

/** The PostgreSQL store; what keeps it from opening is a startup error naming the store and the fix. */
async function openSharedStore(options: { url: string; log: (line: string) => void; cipher?: BodyCipher }): Promise<ObjectStore> {
  try {
    return await openPostgresStore(options);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    const code = error.code === "store_key" ? StartupErrorCode.StoreKey : error.code === "store_unavailable" ? StartupErrorCode.StoreUnavailable : error.code === "store_schema_unsupported" ? StartupErrorCode.StoreSchema : StartupErrorCode.StoreCorrupt;
    throw new StartupError(code, error.message);
  }
}

function storeCipher(file: string): BodyCipher {
  try {
    return createBodyCipher(readStoreKeyFile(file));
  } catch (error) {
    throw new StartupError(StartupErrorCode.StoreKey, error instanceof Error ? error.message : String(error));
  }
}

export const serveUsage = `usage: serve [--xds-host 127.0.0.1] [--xds-port 18000] [--admin-host 127.0.0.1] [--admin-port 9000]
             [--data-dir ./.data] [--config FILE|DIR]... [--debounce-ms 50] [--no-example] [--allow-empty-store]
             [--admin-auth none|token] [--admin-allowed-host NAME]... [--allow-raw-filename]
             [--xds-tls-cert FILE --xds-tls-key FILE [--xds-client-ca FILE [--csds-identity ID]...]] [--store-key-file FILE]
             [--store postgres://USER@HOST:PORT/DB [--replica-id ID] [--replica-lease-ms 15000] [--replica-renew-ms 5000]]
             [--xds-max-node-bytes 262144] [--xds-max-disconnected 10000] [--xds-forget-disconnected-ms 3600000]
             [--csds-max-nodes 1000] [--csds-max-response-bytes 4194304]
             [--xds-max-streams N] [--xds-max-initial-syncs 256] [--xds-initial-sync-timeout-ms 10000]
             [--xds-max-buffered-bytes 262144] [--xds-stuck-stream-timeout-ms 60000] [--xds-transport http2|grpc-js]
             [--log-level debug|info|warn|error] [--log-format json|text] [--metrics-sink-port N]
  env: CONTROL_PLANE_XDS_HOST, CONTROL_PLANE_XDS_PORT, CONTROL_PLANE_ADMIN_HOST, CONTROL_PLANE_ADMIN_PORT, CONTROL_PLANE_DATA_DIR,
       CONTROL_PLANE_ADMIN_AUTH, CONTROL_PLANE_XDS_TLS_CERT, CONTROL_PLANE_XDS_TLS_KEY, CONTROL_PLANE_XDS_CLIENT_CA,
       CONTROL_PLANE_STORE (a postgres:// URL: replicas share one database; the embedded SQLite file in --data-dir without it),
       CONTROL_PLANE_STORE_KEY_FILE (the same key on every replica), CONTROL_PLANE_REPLICA_ID (default HOSTNAME:ADMINPORT), CONTROL_PLANE_CSDS_IDENTITIES (comma-separated), CONTROL_PLANE_LOG_LEVEL,
       CONTROL_PLANE_LOG_FORMAT (json when standard output is not a terminal, text when it is)`;

/** Runs `serve` until SIGINT/SIGTERM, then shuts down gracefully. */
export async function runServe(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${serveUsage}\n`);
    return 0;
  }
  let options: ServeOptions;
  try {
    options = parseServeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n${serveUsage}\n`);
    return 2;
  }
  const logger = serveLogger(options);
  let running: RunningControlPlane;
  try {
    running = await serve({ ...options, logger });
  } catch (error) {
    process.stderr.write(`error: cannot start the control plane: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: shutting down`);
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      void running.close().then(resolveStop);
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runServe(process.argv.slice(2));
}
