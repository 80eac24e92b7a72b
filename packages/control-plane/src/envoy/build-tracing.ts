import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { OpenTelemetryConfigSchema } from "@ts-control-plane/envoy-api/envoy/config/trace/v3/opentelemetry_pb";
import { ZipkinConfig_CollectorEndpointVersion, ZipkinConfigSchema } from "@ts-control-plane/envoy-api/envoy/config/trace/v3/zipkin_pb";
import type { HttpConnectionManagerSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import type { GraphTracing } from "../graph/graph.ts";
import { clusterName } from "../graph/resource-names.ts";
import { typedExtension } from "./typed-extension.ts";

/** The HTTP connection manager's tracing: the provider of the Tracing object and its sampling. */
export function buildTracing(t: GraphTracing): MessageInitShape<typeof HttpConnectionManagerSchema>["tracing"] {
  return { provider: tracingProvider(t), randomSampling: { value: t.spec.samplingPercent } };
}

function tracingProvider(t: GraphTracing): ReturnType<typeof typedExtension> {
  if ("opentelemetry" in t.spec) {
    const o = t.spec.opentelemetry;
    const config = create(OpenTelemetryConfigSchema, {
      // OTLP over gRPC through Envoy's own client to the collector's cluster (HTTP2, checked in the graph).
      grpcService: { targetSpecifier: { case: "envoyGrpc", value: { clusterName: clusterName(o.service) } } },
      ...(o.serviceName === undefined ? {} : { serviceName: o.serviceName }),
    });
    return typedExtension("envoy.tracers.opentelemetry", OpenTelemetryConfigSchema, config);
  }
  const z = t.spec.zipkin;
  const zipkin = create(ZipkinConfigSchema, {
    collectorCluster: clusterName(z.service),
    collectorEndpoint: z.endpoint,
    collectorEndpointVersion: z.version === "HTTP_JSON" ? ZipkinConfig_CollectorEndpointVersion.HTTP_JSON : ZipkinConfig_CollectorEndpointVersion.HTTP_PROTO,
    sharedSpanContext: z.sharedSpanContext,
  });
  return typedExtension("envoy.tracers.zipkin", ZipkinConfigSchema, zipkin);
}
