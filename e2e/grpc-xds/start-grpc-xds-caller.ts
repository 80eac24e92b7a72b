import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { CallerReply, CallerRequest } from "./grpc-xds-caller.ts";

/** A gRPC xDS bootstrap (gRFC A27) pointing at our server over plaintext, SotW ADS, xDS v3. */
export function grpcXdsBootstrap(options: { xdsPort: number; nodeId: string; nodeCluster?: string }): object {
  return {
    xds_servers: [{ server_uri: `127.0.0.1:${options.xdsPort}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: options.nodeId, cluster: options.nodeCluster ?? "grpc-xds-e2e", locality: { region: "local", zone: "loopback" } },
  };
}

export interface GrpcXdsCaller {
  /** One Whoami call through `xds:///target`: the backend's name, or a rejection with the gRPC error. */
  call(options?: { timeoutMs?: number }): Promise<string>;
  /** What the child wrote to stderr (grpc traces when GRPC_TRACE is set). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts grpc-xds-caller.ts in a child process with its own bootstrap file, so
 * grpc-js-xds's process-wide state never leaks between tests. Stopped (and its
 * bootstrap removed) in `t.after` when `t` is given.
 */
export async function startGrpcXdsCaller(options: {
  target: string;
  xdsPort: number;
  nodeId: string;
  t?: TestContext;
  /** Extra environment, e.g. { GRPC_TRACE: "xds_client", GRPC_VERBOSITY: "DEBUG" }. */
  env?: Record<string, string>;
}): Promise<GrpcXdsCaller> {
  const dir = await mkdtemp(join(tmpdir(), "grpc-xds-"));
  const bootstrapPath = join(dir, "bootstrap.json");
  await writeFile(bootstrapPath, JSON.stringify(grpcXdsBootstrap(options), null, 2));
  const child: ChildProcess = fork(new URL("./grpc-xds-caller.ts", import.meta.url), [options.target], {
    env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrapPath, ...options.env },
    stdio: ["ignore", "inherit", "pipe", "ipc"],
  });
  // Sending to a child that just died emits "error"; the pending call is rejected on exit anyway.
  child.on("error", () => {});
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    // Keep the tail only: DEBUG traces can be long.
    stderr = (stderr + chunk).slice(-200_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pending = new Map<number, { resolve: (reply: string) => void; reject: (error: Error) => void }>();
  child.on("message", (message: CallerReply) => {
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.reply);
    else p.reject(new Error(message.error));
  });
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`grpc-xds-caller exited (code ${child.exitCode})`));
    pending.clear();
  });
  let nextId = 0;
  let stopped: Promise<void> | undefined;
  const caller: GrpcXdsCaller = {
    call({ timeoutMs = 2000 } = {}) {
      const id = ++nextId;
      return new Promise<string>((resolve, reject) => {
        if (!child.connected) {
          reject(new Error(`grpc-xds-caller is gone (exit code ${child.exitCode}); stderr tail:\n${stderr.slice(-2000)}`));
          return;
        }
        pending.set(id, { resolve, reject });
        child.send({ op: "call", id, timeoutMs } satisfies CallerRequest);
      });
    },
    stderr: () => stderr,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          if (child.connected) child.send({ op: "exit" } satisfies CallerRequest);
          const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  options.t?.after(() => caller.stop());
  return caller;
}
