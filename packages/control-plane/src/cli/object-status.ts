import type { ObjectReport } from "../status/status-report.ts";

/**
 * The STATUS column of `tcp get` and `tcp status`: "NACKED by N" when proxies
 * rejected one of the object's Envoy resources, else acknowledged/targets
 * ("1/1"), "-" for an object no connected proxy receives.
 */
export function objectStatus(report: ObjectReport | undefined): string {
  if (report === undefined) return "-";
  if (report.rejected !== undefined) return `NACKED by ${report.rejected.proxies}`;
  return report.targets === 0 ? "-" : `${report.acknowledged}/${report.targets}`;
}

/** One line per proxy that rejected the object, with Envoy's message (and whether the message named it). */
export function rejectionLines(report: ObjectReport): string[] {
  return (report.rejected?.nacks ?? []).map(
    (n) =>
      `${report.object} rejected by ${n.nodeId} (${n.type}${n.named ? `: ${n.resources.join(", ")}` : "; Envoy's message names no resource, so every object of this type is marked"}): ${n.message.trim()}`,
  );
}
