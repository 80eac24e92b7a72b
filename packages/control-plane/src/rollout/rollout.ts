import type { TrafficCounts } from "../status/traffic-sink.ts";

/**
 * A rollout of one change in stages (issue 11): the change is stored as revision
 * `toRevision` like any other, but only the canary proxies are served it; every
 * other proxy keeps `fromRevision` until the canary passes and the bake ends.
 */
export type RolloutState = "canary" | "baking" | "awaiting-promote" | "succeeded" | "failed" | "aborted";

/**
 * Which proxies go first: a node group, or a share (1-100 %) of the proxies the change targets.
 * A share may be followed by more stages (`--canary 10%,50%`: share 10, next [50]), each a
 * larger share that holds the smaller ones' proxies, baked and judged alike, before all get it.
 */
export type CanarySelection = { readonly share: number; readonly next?: readonly number[] } | { readonly group: string };

/** How a rollout proceeds, as the operator asked for it (`--canary`, `--bake`, ...). */
export interface RolloutSpec {
  readonly canary: CanarySelection;
  /** Time the canary must run the change, once it ACKed, before the rest gets it. */
  readonly bakeMs: number;
  /** A canary proxy that has not ACKed the change within this fails the stage. */
  readonly ackTimeoutMs: number;
  /** Wait for `tcp rollout promote` after the bake instead of promoting. */
  readonly manualPromote: boolean;
  /**
   * Judged by traffic during the bake (Envoy's metrics service): the stage fails when the
   * canary's share of 5xx answers exceeds the other proxies' by more than this (0.05: 5 points).
   */
  readonly max5xxIncrease: number;
  /** Canary requests (for connect failures: upstream connection attempts) needed over the bake before its share is judged. */
  readonly minRequests: number;
  /**
   * The stage fails too when the canary's share of failed upstream connection attempts exceeds
   * the other proxies' by more than this (0.05: 5 points). Absent in records of older runs.
   */
  readonly maxConnectFailIncrease?: number;
}

export interface Rollout extends RolloutSpec {
  /** The revision the change created: one rollout per revision. */
  readonly id: number;
  readonly fromRevision: number;
  readonly toRevision: number;
  /** Who asked (the change's source). */
  readonly source: string;
  readonly state: RolloutState;
  /** The canary proxies (node ids): chosen once when the rollout starts, so a restart serves the same ones. */
  readonly canaryNodes: readonly string[];
  /**
   * With more than one stage: each stage's canary proxies, chosen once at the start, each
   * holding the previous stage's; `canaryNodes` is `stages[stage]`. After the last stage, all.
   */
  readonly stages?: readonly (readonly string[])[];
  /** The current stage, from 0, with `stages`. */
  readonly stage?: number;
  readonly startedAt: string;
  /** Set once the canary ACKed: the bake ends then (wall clock, so it survives a restart). */
  readonly bakeEndsAt?: string;
  readonly endedAt?: string;
  /** Why it failed or was aborted: the NACK text with the node, the ACK deadline, or the 5xx numbers. */
  readonly reason?: string;
  /** The revision that put the stored objects back to `fromRevision` after a failure or abort. */
  readonly rollbackRevision?: number;
  /** The current stage's bake figures, with serve --metrics-sink-port; kept in the record when the rollout ends. */
  readonly traffic?: RolloutTraffic;
}

/** What the bake has seen so far (Envoy's metrics service), counted from the bake's start: the figures a traffic verdict is made of. */
export interface RolloutTraffic {
  readonly canary: TrafficCounts;
  /** Summed over the proxies still on the previous revision. */
  readonly baseline: TrafficCounts;
  readonly updatedAt: string;
}

/** The states in which a rollout holds proxies on two revisions. */
export const runningStates: ReadonlySet<RolloutState> = new Set(["canary", "baking", "awaiting-promote"]);

export const isRunning = (rollout: Rollout | undefined): rollout is Rollout => rollout !== undefined && runningStates.has(rollout.state);

/** Stable codes of rollout misuse (admin API 409/404 answers). */
export const RolloutErrorCode = {
  /** A rollout is running: promote or abort it before another change. */
  Running: "rollout_running",
  /** No rollout is running to promote or abort. */
  NotRunning: "rollout_not_running",
  /** The rollout's options are not valid. */
  Invalid: "rollout_invalid",
} as const;
export type RolloutErrorCode = (typeof RolloutErrorCode)[keyof typeof RolloutErrorCode];

export class RolloutError extends Error {
  override readonly name = "RolloutError";
  readonly code: RolloutErrorCode;
  constructor(code: RolloutErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
