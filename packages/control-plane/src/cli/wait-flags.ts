import { UsageError } from "../main.ts";
import { parseDuration } from "../model/duration.ts";
import type { ChangeWaitReport } from "../reconciler/change-waiter.ts";
import { type CliArgs, flag } from "./cli-args.ts";
import type { CliIo } from "./cli-io.ts";

/** Exit codes of `--wait` (docs/cli.md; the change is stored either way). */
export const WaitExit = {
  /** A targeted proxy NACKed the change. */
  Nacked: 4,
  /** A targeted proxy did not answer in time, or disconnected first (and none NACKed). */
  NotAnswered: 5,
} as const;

export const defaultWaitTimeoutMs = 30_000;

/** `--wait [--timeout 30s]`: the milliseconds to wait, or undefined without --wait. */
export function waitFlags(args: CliArgs): number | undefined {
  const timeout = flag(args, "--timeout");
  if (!args.flags.has("--wait")) {
    if (timeout !== undefined) throw new UsageError("--timeout goes with --wait");
    return undefined;
  }
  if (timeout === undefined) return defaultWaitTimeoutMs;
  const ms = /^\d+$/.test(timeout) ? Number(timeout) * 1000 : parseDuration(timeout);
  if (ms === undefined || ms <= 0 || ms > 600_000) throw new UsageError(`--timeout takes a duration from 1ms to 10m such as 30s, 500ms or 2m, got ${JSON.stringify(timeout)}`);
  return ms;
}

/** The query parameter the admin API takes for it. */
export const waitQuery = (ms: number | undefined): string => (ms === undefined ? "" : `wait=${ms}ms`);

/** Prints how the targeted proxies answered; returns the exit code. */
export function printWait(io: CliIo, wait: ChangeWaitReport | undefined): number {
  if (wait === undefined) return 0;
  if (wait.targets === 0) {
    io.out("live: no connected proxy is affected by this change\n");
    return 0;
  }
  const acked = wait.nodes.filter((n) => n.result === "acked");
  if (wait.live) {
    io.out(`live: ${acked.length} ${acked.length === 1 ? "proxy" : "proxies"} acknowledged ${wait.elapsedMs} ms after the apply (${acked.map((n) => `${n.node} after ${n.ackedAfterMs ?? 0} ms`).join(", ")})\n`);
    return 0;
  }
  for (const n of acked) io.out(`${n.node}: acknowledged after ${n.ackedAfterMs ?? 0} ms\n`);
  const failed = wait.nodes.filter((n) => n.result !== "acked");
  for (const n of failed) {
    const what = n.result === "nacked" ? "NACKED" : n.result === "timeout" ? `did not answer within ${wait.timeoutMs} ms` : "disconnected";
    io.err(`${n.node}: ${what}${n.message === undefined ? "" : `: ${n.message}`}\n`);
  }
  io.err(`not live: ${failed.length} of ${wait.targets} targeted proxies did not acknowledge the change (it is stored; \`tcp status\` shows them)\n`);
  return failed.some((n) => n.result === "nacked") ? WaitExit.Nacked : WaitExit.NotAnswered;
}
