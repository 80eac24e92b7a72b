import type { Any } from "@bufbuild/protobuf/wkt";
import type { PrincipalJson } from "@ts-control-plane/envoy-api/envoy/config/rbac/v3/rbac_pb";
import { RBACPerRouteSchema, RBACSchema, type RBACJson } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/rbac/v3/rbac_pb";
import type { RbacConfig } from "../../model/http-filter-spec.ts";
import { packJson } from "./pack-json.ts";

/**
 * One policy: any request from a listed principal (a source range or a header) is allowed
 * (Allow: everyone else gets 403) or refused with 403 (Deny). The source is the peer's
 * address (direct_remote_ip), not X-Forwarded-For, which a client can write itself.
 */
function rules(name: string, c: RbacConfig): NonNullable<RBACJson["rules"]> {
  const principals: PrincipalJson[] = [
    ...c.sourceCidrs.map((s) => ({ directRemoteIp: { addressPrefix: s.address, prefixLen: s.prefixLen } })),
    ...c.headers.map((h) => ({
      header: h.kind === "present" ? { name: h.name, presentMatch: true } : { name: h.name, stringMatch: h.kind === "exact" ? { exact: h.value } : { prefix: h.value } },
    })),
    // The verified payload jwt_authn stores under its own namespace, keyed by provider (jwt.ts payloadInMetadata).
    ...c.jwtClaims.map((j) => ({
      metadata: {
        filter: "envoy.filters.http.jwt_authn",
        path: [{ key: j.provider }, { key: j.claim }],
        value: { stringMatch: j.kind === "exact" ? { exact: j.value } : { prefix: j.value } },
      },
    })),
  ];
  return { action: c.action === "Allow" ? "ALLOW" : "DENY", policies: { [name]: { permissions: [{ any: true }], principals } } };
}

export function buildRbac(name: string, c: RbacConfig): Any {
  return packJson(RBACSchema, { rules: rules(name, c) });
}

/** A route's own rules replace the listener's for that route (rbac.proto: RBACPerRoute). */
export function buildRbacPerRoute(name: string, c: RbacConfig): Any {
  return packJson(RBACPerRouteSchema, { rbac: { rules: rules(name, c) } });
}
