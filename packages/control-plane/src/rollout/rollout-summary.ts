import { type Rollout, runningStates } from "./rollout.ts";

/** How a revision was rolled out, for history (issue 11: "rollouts are listed in history"). */
export interface RolloutSummary {
  /** The rollout's id: the revision it rolled out. */
  readonly id: number;
  readonly state: Rollout["state"];
  /** running: proxies on two revisions now; promoted: every proxy got it; rolled-back: failed or aborted, the canary put back. */
  readonly outcome: "running" | "promoted" | "rolled-back";
  /** Why it was rolled back. */
  readonly reason?: string;
  /** The revision that put the objects back. */
  readonly rollbackRevision?: number;
  /** With stages: the current (or last reached) stage, from 1, of how many. */
  readonly stage?: string;
}

export function rolloutSummary(r: Rollout): RolloutSummary {
  const outcome = runningStates.has(r.state) ? "running" : r.state === "succeeded" ? "promoted" : "rolled-back";
  return {
    id: r.id,
    state: r.state,
    outcome,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.rollbackRevision !== undefined ? { rollbackRevision: r.rollbackRevision } : {}),
    ...(r.stages !== undefined ? { stage: `${(r.stage ?? 0) + 1} of ${r.stages.length}` } : {}),
  };
}

/** One line for `tcp history`: "-" for a revision applied at once. */
export function describeRolloutSummary(s: RolloutSummary | undefined): string {
  if (s === undefined) return "-";
  const stage = s.stage === undefined ? "" : ` (stage ${s.stage})`;
  if (s.outcome === "running") return `running: ${s.state}${stage}`;
  if (s.outcome === "promoted") return "promoted";
  return `rolled back${s.rollbackRevision === undefined ? "" : ` by revision ${s.rollbackRevision}`}${stage}: ${s.reason ?? s.state}`;
}
