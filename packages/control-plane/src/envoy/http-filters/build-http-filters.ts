import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { FilterConfigSchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_components_pb";
import { RouterSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/router/v3/router_pb";
import type { HttpFilterSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { type FilterOverride, type HttpFilterConfig, type HttpFilterSpec, routerFilterName } from "../../model/http-filter-spec.ts";
import { typedExtension } from "../typed-extension.ts";
import { buildCompression } from "./compression.ts";
import { buildCorsFilter, buildCorsPolicy } from "./cors.ts";
import { buildExtAuthz } from "./ext-authz.ts";
import { buildFault } from "./fault.ts";
import { buildJwt, buildJwtPerRoute } from "./jwt.ts";
import { buildLocalRateLimit } from "./local-rate-limit.ts";
import { packTypedConfig } from "./pack-json.ts";
import { buildRbac, buildRbacPerRoute } from "./rbac.ts";

/** The filter's typed_config in the connection manager's chain. */
function chainConfig(name: string, f: HttpFilterConfig): Any {
  switch (f.type) {
    case "cors":
      return buildCorsFilter();
    case "localRateLimit":
      return buildLocalRateLimit(name, f.localRateLimit);
    case "rbac":
      return buildRbac(name, f.rbac);
    case "fault":
      return buildFault(f.fault);
    case "compression":
      return buildCompression(f.compression);
    case "jwt":
      return buildJwt(f.jwt);
    case "extAuthz":
      return buildExtAuthz(f.extAuthz);
    case "raw":
      return packTypedConfig(f.raw);
  }
}

/**
 * A listener's HTTP filters in the order written, then the router: Envoy runs the chain in
 * order and rejects one that does not end in a terminal filter. Each HttpFilter is named as
 * the operator named it, which is the key routes' typed_per_filter_config uses.
 */
export function buildHttpFilters(filters: readonly HttpFilterSpec[]): MessageInitShape<typeof HttpFilterSchema>[] {
  return [
    ...filters.map((f) => ({ name: f.name, configType: { case: "typedConfig" as const, value: chainConfig(f.name, f) } })),
    typedExtension(routerFilterName, RouterSchema, create(RouterSchema)),
  ];
}

/**
 * RouteConfiguration-wide typed_per_filter_config: the settings a filter reads from the
 * route configuration rather than from its chain entry (CORS: its policy lives there).
 */
export function listenerPerFilterConfig(filters: readonly HttpFilterSpec[]): Record<string, Any> {
  const out: Record<string, Any> = {};
  for (const f of filters) if (f.type === "cors") out[f.name] = buildCorsPolicy(f.cors);
  return out;
}

/** A route rule's overrides as typed_per_filter_config, keyed by filter name (sorted: stable output). */
export function routePerFilterConfig(overrides: Readonly<Record<string, FilterOverride>> | undefined): Record<string, Any> {
  const out: Record<string, Any> = {};
  for (const name of Object.keys(overrides ?? {}).sort()) {
    const o = overrides?.[name];
    if (o === undefined) continue;
    out[name] = "disabled" in o ? anyPack(FilterConfigSchema, create(FilterConfigSchema, { disabled: true })) : perRoute(name, o);
  }
  return out;
}

function perRoute(name: string, o: Exclude<FilterOverride, { disabled: true }>): Any {
  switch (o.type) {
    case "jwt":
      return buildJwtPerRoute(o.require);
    case "cors":
      return buildCorsPolicy(o.cors);
    case "rbac":
      return buildRbacPerRoute(name, o.rbac);
    default:
      // localRateLimit and fault take their own message per route; raw is sent as written;
      // compression overrides are refused by the model (only disabled: true).
      return chainConfig(name, o);
  }
}
