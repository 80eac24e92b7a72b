import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const mainScript = fileURLToPath(new URL("../../packages/control-plane/src/main.ts", import.meta.url));
export const cliScript = fileURLToPath(new URL("../../packages/control-plane/src/cli/main.ts", import.meta.url));

export interface ControlPlaneProcess {
  readonly pid: number;
  readonly xdsPort: number;
  readonly adminPort: number;
  /** "http://127.0.0.1:PORT" of the admin API. */
  readonly adminUrl: string;
  /** Everything it printed so far. */
  logs(): string;
  /** Resolves with the first log line (from now or already printed) that matches; bounded. */
  waitForLog(pattern: RegExp, options: { timeoutMs: number }): Promise<string>;
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves once the process is gone. Idempotent. */
  stop(options?: { signal?: "SIGTERM" | "SIGKILL" }): Promise<number | null>;
}

export interface StartControlPlaneOptions {
  readonly dataDir: string;
  /** 0 (the default) lets the control plane pick; give the old ports to restart "the same" control plane. */
  readonly xdsPort?: number;
  readonly adminPort?: number;
  readonly config?: readonly string[];
  readonly extraArgs?: readonly string[];
  /** Bound for the ready line; 20 s by default. */
  readonly startTimeoutMs?: number;
  /** When given, the process is killed in t.after and its log printed if the test failed. */
  readonly t?: TestContext;
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Starts `packages/control-plane/src/main.ts` as a child process and waits for its ready line. */
export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlaneProcess> {
  const args = [
    mainScript,
    "--xds-port",
    String(options.xdsPort ?? 0),
    "--admin-port",
    String(options.adminPort ?? 0),
    "--data-dir",
    options.dataDir,
    "--debounce-ms",
    "20",
    "--no-example",
    ...(options.config ?? []).flatMap((c) => ["--config", c]),
    ...(options.extraArgs ?? []),
  ];
  // The control plane logs every admin answer that does not match its OpenAPI document (issue 9); t.after fails on one.
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CONTROL_PLANE_CHECK_OPENAPI: "1" } });
  children.add(child);
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    for (const l of listeners) l();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      children.delete(child);
      for (const l of listeners) l();
      resolve(code);
    });
  });
  let exitedAlready = false;
  void exited.then(() => {
    exitedAlready = true;
  });

  const waitForLog = (pattern: RegExp, opts: { timeoutMs: number }): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = output.split("\n").find((line) => pattern.test(line));
        if (m !== undefined) {
          done();
          resolve(m);
        } else if (exitedAlready) {
          done();
          reject(new Error(`control plane exited before logging ${pattern}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`control plane did not log ${pattern} within ${opts.timeoutMs} ms:\n${output}`));
      }, opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  let stopping: Promise<number | null> | undefined;
  const stop = (opts: { signal?: "SIGTERM" | "SIGKILL" } = {}) => {
    stopping ??= (async () => {
      if (!exitedAlready) child.kill(opts.signal ?? "SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    })();
    return stopping;
  };
  if (options.t !== undefined) {
    const t = options.t;
    t.after(async () => {
      await stop();
      if ((t as unknown as { passed?: boolean }).passed !== true) process.stderr.write(`--- control plane log ---\n${output}\n`);
      const mismatches = output.split("\n").filter((line) => line.includes("openapi mismatch: "));
      // Failed from a hook added now, which runs after those registered later (Envoy's stop):
      // a throwing hook skips the ones after it, and would leave their processes running.
      if (mismatches.length > 0) t.after(() => assert.fail(`admin API answers that do not match the OpenAPI document:\n${mismatches.join("\n")}`));
    });
  }

  let ready: string;
  try {
    ready = await waitForLog(/control plane ready: /, { timeoutMs: options.startTimeoutMs ?? 20_000 });
  } catch (error) {
    await stop({ signal: "SIGKILL" });
    throw error;
  }
  const m = /xds=[^:]+:(\d+) admin=(http:\/\/[^ ]+:(\d+))/.exec(ready);
  if (m === null) throw new Error(`unexpected ready line: ${ready}`);
  return {
    pid: child.pid ?? -1,
    xdsPort: Number(m[1]),
    adminPort: Number(m[3]),
    adminUrl: m[2] ?? "",
    logs: () => output,
    waitForLog,
    stop,
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as its own process (what an operator types), bounded by `timeoutMs`. */
export function runCliProcess(args: readonly string[], options: { server: string; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliScript, ...args], {
      cwd: root,
      env: { ...process.env, CONTROL_PLANE_SERVER: options.server },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`CLI ${args.join(" ")} did not finish within ${options.timeoutMs ?? 20_000} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}
