import type { PathSegment } from "../model/field-path.ts";
import type { RouteRule } from "../model/route-spec.ts";

/** Every Service a route rule sends traffic to (backends, then mirrors), with the field that names it. */
export function ruleServices(rule: RouteRule): { service: string; path: PathSegment[] }[] {
  return [
    ...rule.backends.map((b, j) => ({ service: b.service, path: ["backends", j, "service"] as PathSegment[] })),
    ...(rule.mirror ?? []).map((m, j) => ({ service: m.service, path: ["mirror", j, "service"] as PathSegment[] })),
  ];
}
