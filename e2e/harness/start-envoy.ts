import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { TestContext } from "node:test";
import type { ConfigDump, Json } from "./config-dump.ts";
import { httpGet } from "./http-get.ts";
import { waitUntil } from "./wait-until.ts";

export interface StartEnvoyOptions {
  /** The bootstrap as proto3 JSON. Its `admin` block is replaced: the harness owns the admin port. */
  readonly bootstrap: Json;
  /** Short name for logs and the temp dir ("scenario1-ads"). */
  readonly name: string;
  /** Envoy's --log-level; "info" by default (use "debug" when chasing a problem). */
  readonly logLevel?: string;
  /**
   * Worker threads. 1 by default: each worker has its own load balancer, so
   * round-robin order is only observable per worker, and tests share 2 CPUs.
   */
  readonly concurrency?: number;
  /**
   * When the promise resolves: "live" (admin /ready answers LIVE, i.e. the
   * initial xDS fetch is done) by default, or "admin" (the admin port answers).
   */
  readonly readyWhen?: "live" | "admin";
  /** Bound for reaching readyWhen; 20 s by default (Envoy's initial fetch timeout is 15 s). */
  readonly startTimeoutMs?: number;
  /**
   * When given, Envoy is stopped in `t.after`; if the test failed, the log's
   * tail is printed and the whole log kept in .e2e-tmp/envoy-logs/ (gitignored).
   */
  readonly t?: TestContext;
  /** More command-line arguments. */
  readonly extraArgs?: readonly string[];
}

export interface EnvoyProcess {
  readonly name: string;
  readonly pid: number;
  /** "http://127.0.0.1:PORT" of the admin interface. */
  readonly adminUrl: string;
  /** Temp dir holding the bootstrap and the log; removed by stop(). */
  readonly dir: string;
  readonly logFile: string;
  /** Admin /config_dump as JSON; `includeEds` adds the EDS section. */
  configDump(options?: { includeEds?: boolean }): Promise<ConfigDump>;
  /** Counters and gauges from admin /stats, optionally filtered by a regex (Envoy's `filter`). */
  stats(filter?: string): Promise<Map<string, number>>;
  /**
   * Text readouts from admin /stats, e.g. `cluster.NAME.version_text`: the
   * version_info of the last accepted xDS update of a subscription. This is
   * where an EDS version shows, since config_dump's EDS section has none.
   */
  textStats(filter?: string): Promise<Map<string, string>>;
  /** Admin /server_info as JSON (state, uptime, ...). */
  serverInfo(): Promise<Json>;
  /** Polls /config_dump until `predicate` returns a value that is not undefined/null/false; returns it. */
  waitFor<T>(predicate: (dump: ConfigDump) => T | undefined | null | false, options: { timeoutMs: number; description?: string; includeEds?: boolean }): Promise<T>;
  /** The log so far; the last `lines` lines when given. */
  logs(lines?: number): string;
  /** True while the process has not exited. */
  running(): boolean;
  /**
   * SIGTERM, then SIGKILL after a bound; resolves once the process is gone, and
   * removes the temp dir. `keepLog` first copies the log to .e2e-tmp/envoy-logs/.
   * Idempotent.
   */
  stop(options?: { keepLog?: boolean }): Promise<void>;
}

/** Where logs of failed tests' Envoys are kept (gitignored). */
const keptLogsDir = join(import.meta.dirname, "..", "..", ".e2e-tmp", "envoy-logs");

const envoyProcesses = new Set<ChildProcess>();
// Last resort: if the test process exits while an Envoy still runs (an
// uncaught error skipped the after hooks), do not leave an orphan behind.
process.on("exit", () => {
  for (const child of envoyProcesses) child.kill("SIGKILL");
});

/**
 * Starts a real Envoy ($ENVOY_BIN) that can run beside other Envoys and tests:
 * no hot-restart shared memory, its own admin port on 127.0.0.1 (port 0, read
 * back from --admin-address-path, so there is no race for it), a short drain.
 */
export async function startEnvoy(options: StartEnvoyOptions): Promise<EnvoyProcess> {
  const bin = process.env["ENVOY_BIN"];
  if (!bin) throw new Error("ENVOY_BIN is not set: run through `bash scripts/toolchain.sh`");
  const dir = await mkdtemp(join(tmpdir(), `e2e-envoy-${options.name.replace(/[^a-zA-Z0-9_-]/g, "_")}-`));
  const bootstrapFile = join(dir, "bootstrap.json");
  const adminAddressFile = join(dir, "admin-address");
  const logFile = join(dir, "envoy.log");
  const bootstrap = { ...options.bootstrap, admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } } };
  await writeFile(bootstrapFile, JSON.stringify(bootstrap, null, 2));

  const args = [
    "-c",
    bootstrapFile,
    "--disable-hot-restart",
    "--drain-time-s",
    "1",
    "--concurrency",
    String(options.concurrency ?? 1),
    "--log-level",
    options.logLevel ?? "info",
    "--admin-address-path",
    adminAddressFile,
    ...(options.extraArgs ?? []),
  ];
  const logFd = openSync(logFile, "a");
  const child = spawn(bin, args, { stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  envoyProcesses.add(child);
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = `exited with ${signal ?? `code ${code}`}`;
      envoyProcesses.delete(child);
      resolve();
    });
    child.once("error", (error) => {
      exitInfo = `failed to start: ${error.message}`;
      envoyProcesses.delete(child);
      resolve();
    });
  });

  const logs = (lines?: number): string => {
    const text = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    return lines === undefined ? text : text.split("\n").slice(-lines - 1).join("\n");
  };
  const logTail = (): string => `--- last lines of Envoy "${options.name}" log (${logFile}) ---\n${logs(60)}`;

  let stopped: Promise<void> | undefined;
  const stop = (stopOptions: { keepLog?: boolean } = {}): Promise<void> => {
    stopped ??= (async () => {
      if (exitInfo === undefined) {
        child.kill("SIGTERM");
        const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
        if (!gone) {
          child.kill("SIGKILL");
          await Promise.race([exited, sleep(2000)]);
        }
      }
      if (stopOptions.keepLog && existsSync(logFile)) {
        const kept = join(keptLogsDir, `${basename(dir)}.log`);
        await mkdir(keptLogsDir, { recursive: true });
        await copyFile(logFile, kept);
        process.stderr.write(`full Envoy log kept in ${kept}\n`);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  if (options.t) {
    const t = options.t;
    t.after(async () => {
      // TestContext#passed exists at runtime since Node 24.16; @types/node only types it on SuiteContext.
      const failed = (t as unknown as { readonly passed?: boolean }).passed !== true;
      if (failed) process.stderr.write(`\n${logTail()}\n`);
      await stop({ keepLog: failed });
    });
  }

  try {
    const adminUrl = await waitUntil(
      async () => {
        if (exitInfo !== undefined) throw new Error(`Envoy ${exitInfo}`);
        if (!existsSync(adminAddressFile)) return undefined;
        const address = (await readFile(adminAddressFile, "utf8")).trim();
        return address === "" ? undefined : `http://${address}`;
      },
      { timeoutMs: options.startTimeoutMs ?? 20_000, intervalMs: 50, description: `Envoy "${options.name}" admin address`, onTimeout: logTail },
    );
    const admin = (path: string) => httpGet(adminUrl + path, { timeoutMs: 5000 });
    await waitUntil(
      async () => {
        if (exitInfo !== undefined) throw new Error(`Envoy ${exitInfo}`);
        const res = await admin("/ready");
        return options.readyWhen === "admin" || (res.status === 200 && res.body.trim() === "LIVE");
      },
      { timeoutMs: options.startTimeoutMs ?? 20_000, intervalMs: 50, description: `Envoy "${options.name}" /ready to answer LIVE`, onTimeout: logTail },
    );

    const configDump = async (o: { includeEds?: boolean } = {}): Promise<ConfigDump> => {
      const res = await admin(o.includeEds ? "/config_dump?include_eds" : "/config_dump");
      if (res.status !== 200) throw new Error(`/config_dump answered ${res.status}: ${res.body}`);
      return JSON.parse(res.body) as ConfigDump;
    };
    const envoy: EnvoyProcess = {
      name: options.name,
      pid: child.pid ?? -1,
      adminUrl,
      dir,
      logFile,
      configDump,
      async stats(filter?: string) {
        const res = await admin(filter === undefined ? "/stats" : `/stats?filter=${encodeURIComponent(filter)}`);
        const out = new Map<string, number>();
        for (const line of res.body.split("\n")) {
          // Counters and gauges are "name: 123"; histograms ("name: P0(...)") are skipped.
          const m = /^(\S+): (\d+)$/.exec(line);
          if (m) out.set(m[1]!, Number(m[2]));
        }
        return out;
      },
      async textStats(filter?: string) {
        const res = await admin(filter === undefined ? "/stats" : `/stats?filter=${encodeURIComponent(filter)}`);
        const out = new Map<string, string>();
        for (const line of res.body.split("\n")) {
          const m = /^(\S+): "(.*)"$/.exec(line);
          if (m) out.set(m[1]!, m[2]!);
        }
        return out;
      },
      async serverInfo() {
        return JSON.parse((await admin("/server_info")).body) as Json;
      },
      waitFor(predicate, o) {
        return waitUntil(async () => predicate(await configDump(o.includeEds ? { includeEds: true } : {})), {
          timeoutMs: o.timeoutMs,
          intervalMs: 100,
          description: o.description ?? `Envoy "${options.name}" config_dump predicate`,
          onTimeout: logTail,
        });
      },
      logs,
      running: () => exitInfo === undefined,
      stop,
    };
    return envoy;
  } catch (error) {
    await stop({ keepLog: true });
    throw error;
  }
}

/** A bound for a race; unref'd so it never keeps the test process alive by itself. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
