import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { RouteConfigurationSchema, type RouteConfiguration } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_pb";
import type { HeaderMatcherSchema, RouteAction_HashPolicySchema, RouteSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_components_pb";
import type { GraphListener } from "../graph/graph.ts";
import { clusterName, routeConfigName } from "../graph/resource-names.ts";
import type { HeaderMatch, RouteRule } from "../model/route-spec.ts";
import { buildHeaderModifiers } from "./build-header-modifiers.ts";
import { buildDirectResponse, buildMirrors, buildRedirect, buildRetryPolicy, buildRouteUpgrades } from "./build-route-action.ts";
import { durationFromMs } from "./durations.ts";
import { listenerPerFilterConfig, routePerFilterConfig } from "./http-filters/build-http-filters.ts";

/**
 * The RouteConfiguration an HTTP(S) listener fetches over RDS: one virtual host per Route
 * object attached to the listener (sorted by name), its routes in the order written,
 * since Envoy takes the first match.
 */
export function buildRouteConfiguration(listener: GraphListener): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: routeConfigName(listener.name),
    // Listener-level header changes live on the route table: it serves only this listener.
    ...buildHeaderModifiers(listener.headers),
    typedPerFilterConfig: listenerPerFilterConfig(listener.httpFilters),
    virtualHosts: listener.virtualHosts.map((vh) => ({
      name: vh.name,
      domains: [...vh.domains],
      routes: vh.rules.map(buildRoute),
      ...buildHeaderModifiers(vh.headers),
    })),
  });
}

function buildRoute(rule: RouteRule): MessageInitShape<typeof RouteSchema> {
  const p = rule.match.path;
  const route: MessageInitShape<typeof RouteSchema> = {
    ...buildHeaderModifiers(rule.headers),
    match: {
      pathSpecifier:
        p.kind === "prefix"
          ? { case: "prefix", value: p.value }
          : p.kind === "exact"
            ? { case: "path", value: p.value }
            : { case: "safeRegex", value: { regex: p.value } },
      headers: rule.match.headers.map(buildHeaderMatch),
    },
    action: rule.redirect !== undefined
      ? { case: "redirect", value: buildRedirect(rule.redirect) }
      : rule.directResponse !== undefined
        ? { case: "directResponse", value: buildDirectResponse(rule.directResponse) }
        : {
      case: "route",
      value: {
        clusterSpecifier:
          rule.backends.length === 1
            ? { case: "cluster", value: clusterName(rule.backends[0]?.service ?? "") }
            : {
                case: "weightedClusters",
                // Sorted by service, so reordering backends is not a new version.
                value: {
                  clusters: [...rule.backends]
                    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
                    .map((b) => ({ name: clusterName(b.service), weight: b.weight })),
                },
              },
        ...(rule.hostRewrite === undefined ? {} : { hostRewriteSpecifier: { case: "hostRewriteLiteral" as const, value: rule.hostRewrite } }),
        ...(rule.prefixRewrite === undefined ? {} : { prefixRewrite: rule.prefixRewrite }),
        ...(rule.regexRewrite === undefined ? {} : { regexRewrite: { pattern: { regex: rule.regexRewrite.pattern }, substitution: rule.regexRewrite.substitution } }),
        ...(rule.mirror === undefined ? {} : { requestMirrorPolicies: buildMirrors(rule.mirror) }),
        ...(rule.upgrades === undefined ? {} : { upgradeConfigs: buildRouteUpgrades(rule.upgrades) }),
        ...(rule.timeoutMs === undefined ? {} : { timeout: durationFromMs(rule.timeoutMs) }),
        ...(rule.hashOn === undefined ? {} : { hashPolicy: [hashPolicy(rule.hashOn)] }),
        ...(rule.retries === undefined ? {} : { retryPolicy: buildRetryPolicy(rule.retries) }),
      },
    },
  };
  if (rule.decorator !== undefined) route.decorator = { operation: rule.decorator };
  if (rule.filters !== undefined) route.typedPerFilterConfig = routePerFilterConfig(rule.filters);
  return route;
}

function buildHeaderMatch(h: HeaderMatch): MessageInitShape<typeof HeaderMatcherSchema> {
  const invert = h.invert ? { invertMatch: true } : {};
  if (h.kind === "present") return { name: h.name, headerMatchSpecifier: { case: "presentMatch", value: true }, ...invert };
  const pattern =
    h.kind === "exact"
      ? { case: "exact" as const, value: h.value }
      : h.kind === "prefix"
        ? { case: "prefix" as const, value: h.value }
        : { case: "safeRegex" as const, value: { regex: h.value } };
  return { name: h.name, headerMatchSpecifier: { case: "stringMatch", value: { matchPattern: pattern } }, ...invert };
}

function hashPolicy(on: NonNullable<RouteRule["hashOn"]>): MessageInitShape<typeof RouteAction_HashPolicySchema> {
  if ("header" in on) return { policySpecifier: { case: "header", value: { headerName: on.header } } };
  if ("cookie" in on) return { policySpecifier: { case: "cookie", value: { name: on.cookie } } };
  if ("queryParameter" in on) return { policySpecifier: { case: "queryParameter", value: { name: on.queryParameter } } };
  return { policySpecifier: { case: "connectionProperties", value: { sourceIp: true } } };
}
