import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ZipkinConfig_CollectorEndpointVersion, ZipkinConfigSchema } from "@ts-control-plane/envoy-api/envoy/config/trace/v3/zipkin_pb";
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManagerSchema,
  type HttpConnectionManager,
} from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import { UuidRequestIdConfigSchema } from "@ts-control-plane/envoy-api/envoy/extensions/request_id/uuid/v3/uuid_pb";
import type { GraphListener, GraphTracing } from "../graph/graph.ts";
import { clusterName, routeConfigName } from "../graph/resource-names.ts";
import { adsConfigSource } from "./ads-config-source.ts";
import { buildAccessLogs } from "./build-access-logs.ts";
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

function buildTracing(t: GraphTracing): MessageInitShape<typeof HttpConnectionManagerSchema>["tracing"] {
  const z = t.spec.zipkin;
  const zipkin = create(ZipkinConfigSchema, {
    collectorCluster: clusterName(z.service),
    collectorEndpoint: z.endpoint,
    collectorEndpointVersion: z.version === "HTTP_JSON" ? ZipkinConfig_CollectorEndpointVersion.HTTP_JSON : ZipkinConfig_CollectorEndpointVersion.HTTP_PROTO,
    sharedSpanContext: z.sharedSpanContext,
  });
  return {
    provider: typedExtension("envoy.tracers.zipkin", ZipkinConfigSchema, zipkin),
    randomSampling: { value: t.spec.samplingPercent },
  };
}
