import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManagerSchema,
  type HttpConnectionManager,
} from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { UuidRequestIdConfigSchema } from "@ts-control-plane/envoy-api/envoy/extensions/request_id/uuid/v3/uuid_pb";
import type { GraphListener } from "../graph/graph.ts";
import { routeConfigName } from "../graph/resource-names.ts";
import { adsConfigSource } from "./ads-config-source.ts";
import { buildAccessLogs } from "./build-access-logs.ts";
import { buildTracing } from "./build-tracing.ts";
import { buildHttpFilters } from "./http-filters/build-http-filters.ts";
import { typedExtension } from "./typed-extension.ts";

/** The HTTP connection manager of an HTTP(S) listener: routes over RDS (ADS), router filter last. */
export function buildHttpConnectionManager(listener: GraphListener): HttpConnectionManager {
  const init: MessageInitShape<typeof HttpConnectionManagerSchema> = {
    statPrefix: listener.name,
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: { case: "rds", value: { configSource: adsConfigSource(), routeConfigName: routeConfigName(listener.name) } },
    // The listener's filters in order, the router last (http-filters/build-http-filters.ts).
    httpFilters: buildHttpFilters(listener.httpFilters),
    // Set explicitly rather than relying on Envoy's defaults, so config dumps say what we mean.
    generateRequestId: listener.requestId.generate,
    preserveExternalRequestId: listener.requestId.preserveExternal,
    accessLog: buildAccessLogs(listener.accessLogs),
    upgradeConfigs: listener.upgrades.map((upgradeType) => ({ upgradeType })),
  };
  if (listener.requestId.generate) {
    init.requestIdExtension = {
      typedConfig: typedExtension("envoy.request_id.uuid", UuidRequestIdConfigSchema, create(UuidRequestIdConfigSchema, { packTraceReason: true })).configType.value,
    };
  }
  if (listener.tracing !== undefined) init.tracing = buildTracing(listener.tracing);
  return create(HttpConnectionManagerSchema, init);
}
