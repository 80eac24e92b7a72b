import { TypeUrl } from "../resource/type-urls.ts";

/**
 * The REST-JSON fetch endpoints of the v3 API, from the `google.api.http`
 * options of the discovery services' Fetch* methods (cds.proto, eds.proto, ...):
 * POST /v3/discovery:<kind>, one path per resource type. VHDS has no Fetch
 * method (it is Delta only), so it has no REST path.
 */
export const restDiscoveryPaths: ReadonlyMap<string, string> = new Map([
  ["/v3/discovery:clusters", TypeUrl.Cluster],
  ["/v3/discovery:endpoints", TypeUrl.Endpoint],
  ["/v3/discovery:listeners", TypeUrl.Listener],
  ["/v3/discovery:routes", TypeUrl.Route],
  ["/v3/discovery:scoped-routes", TypeUrl.ScopedRoute],
  ["/v3/discovery:secrets", TypeUrl.Secret],
  ["/v3/discovery:runtime", TypeUrl.Runtime],
  ["/v3/discovery:extension_configs", TypeUrl.ExtensionConfig],
]);
