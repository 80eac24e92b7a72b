import { claimProviderProblem } from "../model/http-filter-spec.ts";
import type { ListenerSpec } from "../model/listener-spec.ts";
import type { Diagnostic } from "../model/model-object.ts";
import type { RouteSpec } from "../model/route-spec.ts";

/**
 * A route's filter override names a filter of the listeners it attaches to: it must exist,
 * with the same type, on every one of them (issue 8). Envoy would take a per-route config
 * for a filter the chain lacks without a word and apply nothing, so the route is refused
 * instead, with the listener that lacks the filter. Listeners that do not resolve are
 * reported by the reference check, not here.
 */
export function checkFilterOverrides(key: string, route: RouteSpec, listeners: ReadonlyMap<string, ListenerSpec>): Diagnostic[] {
  const out: Diagnostic[] = [];
  route.routes.forEach((rule, i) => {
    for (const [name, override] of Object.entries(rule.filters ?? {})) {
      for (const listener of route.listeners) {
        const spec = listeners.get(listener);
        if (spec === undefined) continue;
        const filter = spec.httpFilters.find((f) => f.name === name);
        const path = `spec.routes[${i}].filters.${name}`;
        if (filter === undefined) {
          out.push({
            severity: "error",
            code: "route.unknown_filter",
            message: `filter '${name}' is not in the httpFilters of Listener '${listener}'`,
            hint: `add a filter named '${name}' to spec.httpFilters of Listener '${listener}', or remove this override (have: ${spec.httpFilters.map((f) => f.name).join(", ") || "no filters"})`,
            object: key,
            path,
          });
          break;
        }
        if (!("disabled" in override) && override.type !== filter.type) {
          out.push({
            severity: "error",
            code: "route.filter_type",
            message: `filter '${name}' of Listener '${listener}' is a ${filter.type} filter, this override is ${override.type}`,
            hint: `set type: ${filter.type} in the override, or override a ${override.type} filter`,
            object: key,
            path: `${path}.type`,
          });
          break;
        }
        const claims = "disabled" in override || override.type === "jwt" ? undefined : claimProviderProblem(override, spec.httpFilters, spec.httpFilters.indexOf(filter));
        if (claims !== undefined) {
          out.push({ severity: "error", code: "route.jwt_claim_provider", message: `${claims.message} on Listener '${listener}'`, hint: claims.hint, object: key, path: `${path}.jwtClaims[${claims.index}].provider` });
          break;
        }
        if (!("disabled" in override) && override.type === "jwt" && filter.type === "jwt" && !filter.jwt.providers.some((p) => p.name === override.require)) {
          out.push({
            severity: "error",
            code: "route.jwt_provider",
            message: `filter '${name}' of Listener '${listener}' has no provider '${override.require}'`,
            hint: `require one of: ${filter.jwt.providers.map((p) => p.name).join(", ")}, or add the provider to the listener's filter`,
            object: key,
            path: `${path}.require`,
          });
          break;
        }
      }
    }
  });
  return out;
}
