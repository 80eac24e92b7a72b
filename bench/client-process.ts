import { fork, type ChildProcess } from "node:child_process";
import type { ChildMessage, ParentMessage } from "./fanout-clients.ts";

/** The fanout-clients.ts child, with bounded waits for its messages. */
export interface ClientProcess {
  readonly pid: number;
  /** Resolves with the next message of that type; rejects on timeout, on "failed" or if the child exits. */
  next<T extends ChildMessage["type"]>(type: T, options: { timeoutMs: number }): Promise<Extract<ChildMessage, { type: T }>>;
  send(message: ParentMessage): void;
  stop(): Promise<void>;
}

export function startClientProcess(options: { port: number; clients: number; clusters: number }): ClientProcess {
  const child: ChildProcess = fork(
    new URL("./fanout-clients.ts", import.meta.url),
    ["--port", String(options.port), "--clients", String(options.clients), "--clusters", String(options.clusters)],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const queue: ChildMessage[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  child.on("message", (m: ChildMessage) => {
    if (m.type === "failed") failure ??= new Error(`clients failed: ${m.message}`);
    else queue.push(m);
    wake?.();
  });
  // Sending to a child that just died emits "error"; the exit below reports it.
  child.on("error", () => {});
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      failure ??= new Error(`client process exited (code ${code}, signal ${signal})`);
      wake?.();
      resolve();
    }),
  );
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? -1,
    async next(type, { timeoutMs }) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex((m) => m.type === type);
        if (i >= 0) return queue.splice(i, 1)[0] as Extract<ChildMessage, { type: typeof type }>;
        if (failure && !stopping) throw failure;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no "${type}" from the client process within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
    send(message) {
      if (child.connected) child.send(message);
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.send({ type: "exit" } satisfies ParentMessage);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
