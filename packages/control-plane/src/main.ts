import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createSnapshotCache, createXdsServer, StatusRegistry, type CsdsLimits } from "@ts-control-plane/xds";
import { createAdminServer } from "./admin/admin-server.ts";
import { createReconciler } from "./reconciler/reconciler.ts";
import { createFileSources } from "./sources/file-sources.ts";
import { formatDiagnostic } from "./sources/format-diagnostic.ts";
import { readConfigFile } from "./sources/read-config-file.ts";
import { bindPort } from "./startup/bind-port.ts";
import { buildProxyConfig } from "./status/proxy-config.ts";
import { buildStatusReport } from "./status/status-report.ts";
import { lockDataDir } from "./store/data-dir-lock.ts";
import { openObjectStore } from "./store/object-store.ts";

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
  readonly controlPlaneId?: string;
  readonly log?: (line: string) => void;
  /**
   * Bounds on what untrusted xDS clients can make the server hold (issue 14;
   * docs/xds-protocol.md § Bounded memory); the library's defaults when absent.
   */
  readonly xdsLimits?: XdsLimits;
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

const timestamped = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
};

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
  const log = options.log ?? timestamped;
  // Two control planes on one store would each serve their own view and overwrite each other's revisions.
  const lock = lockDataDir(options.dataDir);
  let store: ReturnType<typeof openObjectStore>;
  try {
    store = openObjectStore({ file: join(options.dataDir, "control-plane.db") });
  } catch (error) {
    lock.release();
    throw error;
  }
  // The cache key is the node group; the reconciler knows the groups.
  const cache = createSnapshotCache({
    ads: true,
    nodeKey: (node) => reconciler.nodeGroupOf({ id: node.id, cluster: node.cluster, metadata: node.metadata }),
  });
  // Set once the xDS server exists: node-group changes move connected nodes at once.
  let rekeyStreams = (): void => {};
  const reconciler = createReconciler({
    store,
    cache,
    onGroupsChanged: () => rekeyStreams(),
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    log,
  });
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release(), () => store.close(), () => reconciler.close()];
  const close = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (error) {
        log(`shutdown: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    cleanups.length = 0;
  };
  try {
    await reconciler.start();
    log(`loaded revision ${store.currentRevision()} with ${store.list().length} objects from ${join(options.dataDir, "control-plane.db")}`);

    if (store.currentRevision() === 0 && options.configPaths.length === 0 && options.examplePath !== undefined && existsSync(options.examplePath)) {
      const parsed = readConfigFile(options.examplePath);
      const outcome = reconciler.change({ upserts: parsed.objects, source: `example:${options.examplePath}` });
      if (outcome.accepted) log(`the store was empty: loaded the example ${options.examplePath} as revision ${outcome.revision?.revision}`);
      else for (const d of [...parsed.diagnostics, ...outcome.diagnostics]) log(`example refused: ${formatDiagnostic(d)}`);
    }

    if (options.configPaths.length > 0) {
      const fileSources = createFileSources({
        paths: options.configPaths,
        store,
        apply: (change) => reconciler.change(change),
        ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs * 2 } : {}),
        log,
      });
      cleanups.push(() => fileSources.close());
      fileSources.start();
    }
    await reconciler.flush();

    const limits = options.xdsLimits ?? {};
    const xds = createXdsServer({
      cache,
      status: new StatusRegistry({
        forgetAfterMs: limits.forgetDisconnectedAfterMs ?? defaultForgetDisconnectedAfterMs,
        ...(limits.maxDisconnected === undefined ? {} : { maxDisconnected: limits.maxDisconnected }),
      }),
      ...(limits.maxNodeBytes === undefined ? {} : { maxNodeBytes: limits.maxNodeBytes }),
      ...(limits.csds === undefined ? {} : { csds: limits.csds }),
      hooks: {
        // The event's version is the one Envoy rejected (what we sent with that nonce).
        onNack: (e) => log(`NACK from ${e.nodeId} for ${e.typeUrl.split(".").pop()} (rejected version "${e.version}", nonce ${e.nonce}): ${e.message}`),
        onHookError: (error, hook) => log(`xDS hook ${hook} failed: ${error instanceof Error ? error.message : String(error)}`),
      },
      controlPlaneId: options.controlPlaneId ?? "ts-control-plane",
    });
    rekeyStreams = () => xds.rekey();
    const xdsPort = await bindPort(() => xds.listen({ host: options.xdsHost, port: options.xdsPort }), {
      what: "xDS",
      host: options.xdsHost,
      port: options.xdsPort,
      flags: "--xds-port (env CONTROL_PLANE_XDS_PORT)",
      hostFlags: "--xds-host (env CONTROL_PLANE_XDS_HOST)",
    });
    cleanups.push(() => xds.close({ graceMs: 200 }));

    const admin = createAdminServer({
      store,
      reconciler,
      xds: { host: options.xdsHost, port: xdsPort },
      log,
      proxyConfig: (nodeId, opts) =>
        buildProxyConfig(nodeId, { status: xds.status, cache, resourceVersions: xds.resourceVersions }, {
          ...opts,
          resourceObjects: (group) => reconciler.state().groups.find((g) => g.name === group)?.resourceObjects,
        }),
      status: () => {
        const state = reconciler.state();
        return buildStatusReport({
          revision: state.revision,
          proxies: xds.status.nodes(),
          // The stream's own key: a stream keeps the group it opened with until re-keyed.
          groupOf: (p) => p.cacheKey,
          // A disconnected proxy keeps no metadata (slim status record) and is served nothing: it stays in its last group.
          matchingGroupOf: (p) => (p.streams === 0 ? p.cacheKey : reconciler.nodeGroupOf({ id: p.nodeId, cluster: p.nodeCluster, metadata: p.node?.metadata })),
          snapshotOf: (g) => state.snapshots.get(g),
          groups: state.groups,
        });
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
  const configPaths: string[] = [];
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
      default:
        throw new UsageError(`unknown flag ${JSON.stringify(arg)} for serve`);
    }
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
  };
}

export const serveUsage = `usage: serve [--xds-host 127.0.0.1] [--xds-port 18000] [--admin-host 127.0.0.1] [--admin-port 9000]
             [--data-dir ./.data] [--config FILE|DIR]... [--debounce-ms 50] [--no-example]
  env: CONTROL_PLANE_XDS_HOST, CONTROL_PLANE_XDS_PORT, CONTROL_PLANE_ADMIN_HOST, CONTROL_PLANE_ADMIN_PORT, CONTROL_PLANE_DATA_DIR`;

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
  let running: RunningControlPlane;
  try {
    running = await serve(options);
  } catch (error) {
    process.stderr.write(`error: cannot start the control plane: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      timestamped(`${signal}: shutting down`);
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
