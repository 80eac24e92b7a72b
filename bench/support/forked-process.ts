import { fork, type ChildProcess } from "node:child_process";

/** A forked Node script that talks over IPC, with bounded waits for its messages. */
export interface ForkedProcess<In, Out extends { readonly type: string }> {
  readonly pid: number;
  /** Resolves with the next message of that type; rejects on timeout, on a "failed" message, or if the child exits. */
  next<T extends Out["type"]>(type: T, options: { timeoutMs: number }): Promise<Extract<Out, { type: T }>>;
  send(message: In): void;
  /** Asks the child to exit (the `exit` message, else disconnect), killing it after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
}

export function forkProcess<In, Out extends { readonly type: string }>(
  script: URL,
  args: readonly string[],
  options: { exitMessage: In; execArgv?: readonly string[] },
): ForkedProcess<In, Out> {
  const child: ChildProcess = fork(script, [...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
  });
  const queue: Out[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  child.on("message", (m: Out) => {
    if (m.type === "failed") failure ??= new Error(`${script.pathname.split("/").at(-1)} failed: ${(m as { message?: string }).message}`);
    else queue.push(m);
    wake?.();
  });
  // Sending to a child that just died emits "error"; the exit below reports it.
  child.on("error", () => {});
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      failure ??= new Error(`${script.pathname.split("/").at(-1)} exited (code ${code}, signal ${signal})`);
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
        if (i >= 0) return queue.splice(i, 1)[0] as Extract<Out, { type: typeof type }>;
        if (failure && !stopping) throw failure;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no "${type}" from ${script.pathname.split("/").at(-1)} within ${timeoutMs} ms`);
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
      if (child.connected) child.send(message as never);
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.send(options.exitMessage as never);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
