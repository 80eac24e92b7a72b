import type { Any } from "@bufbuild/protobuf/wkt";
import { ExtAuthzSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb";
import { clusterName } from "../../graph/resource-names.ts";
import type { ExtAuthzConfig } from "../../model/http-filter-spec.ts";
import { jsonDuration, packJson } from "./pack-json.ts";

/**
 * envoy.filters.http.ext_authz against a Service of ours. HTTP: Envoy replays the request
 * (method, path behind pathPrefix, Authorization and the other default headers) to the
 * service; a 2xx answer lets it through, any other answer is returned to the client.
 * GRPC: the Authorization/Check call over the service's HTTP/2 connection.
 */
export function buildExtAuthz(c: ExtAuthzConfig): Any {
  const cluster = clusterName(c.service);
  const timeout = jsonDuration(c.timeoutMs);
  return packJson(ExtAuthzSchema, {
    ...(c.protocol === "GRPC"
      ? { grpcService: { envoyGrpc: { clusterName: cluster }, timeout } }
      : {
          httpService: {
            // The URI's host is not used for routing (the cluster is), only for the Host header Envoy would write.
            serverUri: { uri: `http://${c.service}`, cluster, timeout },
            ...(c.pathPrefix === undefined ? {} : { pathPrefix: c.pathPrefix }),
          },
        }),
    transportApiVersion: "V3",
    ...(c.failOpen ? { failureModeAllow: true } : {}),
  });
}
