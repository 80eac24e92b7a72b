import type { Rollout } from "../rollout/rollout.ts";
import type { TrafficCounts } from "../status/traffic-sink.ts";
import type { AdminClient } from "./admin-client.ts";
import type { CliArgs } from "./cli-args.ts";
import type { CliIo } from "./cli-io.ts";
import { formatTable } from "./table.ts";
import { UsageError } from "../main.ts";

const one = (args: CliArgs, name: string): string | undefined => args.flags.get(name)?.at(-1);

/**
 * The query of `tcp apply --canary 10%|--canary-group NAME [--bake 60s] [--ack-timeout 30s] [--manual-promote]`
 * (issue 11); empty without a canary. The admin API checks the values (rollout/rollout-spec.ts), once for both.
 */
export function rolloutQuery(args: CliArgs): string {
  const q = new URLSearchParams();
  const canary = one(args, "--canary");
  const group = one(args, "--canary-group");
  if (canary !== undefined) q.set("canary", canary);
  if (group !== undefined) q.set("canaryGroup", group);
  const bake = one(args, "--bake");
  const ackTimeout = one(args, "--ack-timeout");
  if (bake !== undefined) q.set("bake", bake);
  if (ackTimeout !== undefined) q.set("ackTimeout", ackTimeout);
  if (args.flags.has("--manual-promote")) q.set("manualPromote", "true");
  const max5xx = one(args, "--max-5xx-increase");
  const minRequests = one(args, "--min-requests");
  if (max5xx !== undefined) q.set("max5xxIncrease", max5xx);
  if (minRequests !== undefined) q.set("minRequests", minRequests);
  const maxConnectFail = one(args, "--max-connect-fail-increase");
  if (maxConnectFail !== undefined) q.set("maxConnectFailIncrease", maxConnectFail);
  if (q.size > 0 && canary === undefined && group === undefined) {
    throw new UsageError("--bake, --ack-timeout, --manual-promote, --max-5xx-increase, --max-connect-fail-increase and --min-requests go with --canary 10% or --canary-group NAME");
  }
  return q.toString();
}

const describeCanary = (r: Rollout): string => {
  if ("group" in r.canary) return `node group ${r.canary.group}`;
  const shares = [r.canary.share, ...(r.canary.next ?? [])];
  if (shares.length === 1) return `${r.canary.share}% of the targeted proxies`;
  return `stage ${(r.stage ?? 0) + 1} of ${shares.length} (${shares.map((s) => `${s}%`).join(" -> ")} -> all), ${shares[r.stage ?? 0] ?? 0}% of the targeted proxies`;
};

/** One paragraph about a rollout: where it stands and, when it ended badly, why. */
export function rolloutLines(r: Rollout): string {
  const lines = [
    `rollout ${r.id}: ${r.state}, revision ${r.fromRevision} -> ${r.toRevision}, canary ${describeCanary(r)} (${r.canaryNodes.length === 0 ? "no proxy" : r.canaryNodes.join(", ")})`,
    `  bake ${r.bakeMs / 1000}s${r.bakeEndsAt === undefined ? "" : ` (ends ${r.bakeEndsAt})`}, ACK deadline ${r.ackTimeoutMs / 1000}s${r.manualPromote ? ", promoted by hand" : ""}; started ${r.startedAt}${r.endedAt === undefined ? "" : `, ended ${r.endedAt}`}`,
  ];
  if (r.traffic !== undefined) {
    const side = (c: TrafficCounts) => `${c.errors5xx} 5xx of ${c.requests} requests, ${c.connectFailures} failed of ${c.connects} upstream connection attempts`;
    lines.push(`  bake traffic (${r.traffic.updatedAt}): canary ${side(r.traffic.canary)}; others ${side(r.traffic.baseline)}`);
  }
  if (r.reason !== undefined) lines.push(`  reason: ${r.reason}`);
  if (r.rollbackRevision !== undefined) lines.push(`  revision ${r.rollbackRevision} put the objects back to revision ${r.fromRevision}`);
  const laterStage = r.stages !== undefined && (r.stage ?? 0) + 1 < r.stages.length;
  if (r.state === "awaiting-promote") lines.push(`  next: tcp rollout promote${laterStage ? ` (stage ${(r.stage ?? 0) + 2})` : ""} (or tcp rollout abort)`);
  return `${lines.join("\n")}\n`;
}

type RolloutStatus = {
  revision: number;
  rollout: Rollout | null;
  nodes: { nodeId: string; group: string | null; revision: number; state: string }[];
  heldFiles?: { file: string; since: string; reason: string }[];
};

/** `tcp rollout status|promote|abort|list [-o json]`. */
export async function rolloutCommand(client: AdminClient, io: Pick<CliIo, "out">, options: { positionals: readonly string[]; output: string | undefined }): Promise<number> {
  const [action = "status", ...extra] = options.positionals;
  if (extra.length > 0) throw new UsageError(`rollout ${action} takes no arguments, got ${JSON.stringify(extra.join(" "))}`);
  const json = options.output === "json";
  if (action === "status") {
    const s = await client.request<RolloutStatus>("GET", "/api/v1/rollout");
    if (json) {
      io.out(`${JSON.stringify(s, null, 2)}\n`);
      return 0;
    }
    io.out(s.rollout === null ? `no rollout yet; revision ${s.revision} is served to every proxy\n` : rolloutLines(s.rollout));
    if (s.nodes.length > 0) io.out(`${formatTable(["NODE", "GROUP", "REVISION", "STATUS"], s.nodes.map((n) => [n.nodeId, n.group ?? "-", String(n.revision), n.state]))}\n`);
    for (const h of s.heldFiles ?? []) io.out(`config file ${h.file} changed (${h.since}), not applied until the rollout ends\n`);
    return 0;
  }
  if (action === "list") {
    const r = await client.request<{ items: Rollout[] }>("GET", "/api/v1/rollouts");
    if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
    else io.out(r.items.length === 0 ? "no rollouts\n" : r.items.map(rolloutLines).join(""));
    return 0;
  }
  if (action === "promote" || action === "abort") {
    const r = await client.request<{ rollout: Rollout }>("POST", `/api/v1/rollout/${action}`, { body: "{}" });
    io.out(json ? `${JSON.stringify(r, null, 2)}\n` : rolloutLines(r.rollout));
    return 0;
  }
  throw new UsageError(`rollout takes status, list, promote or abort, not ${JSON.stringify(action)}`);
}
