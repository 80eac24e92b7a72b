import { create } from "@bufbuild/protobuf";
import { OpenTelemetryAccessLogConfigSchema } from "@ts-control-plane/envoy-api/envoy/extensions/access_loggers/open_telemetry/v3/logs_service_pb";
import { clusterName } from "../graph/resource-names.ts";
import type { OpenTelemetryAccessLogSpec } from "../model/access-log-spec.ts";
import { typedExtension } from "./typed-extension.ts";

/**
 * envoy.access_loggers.open_telemetry: one OTLP log record per request (or connection),
 * exported over gRPC to the collector's cluster. grpc_service and log_name are the
 * fields of the current API; common_config, which held them before, is deprecated.
 */
export function buildOpenTelemetryAccessLog(spec: OpenTelemetryAccessLogSpec): ReturnType<typeof typedExtension> {
  const attributes = Object.entries(spec.attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const config = create(OpenTelemetryAccessLogConfigSchema, {
    grpcService: { targetSpecifier: { case: "envoyGrpc", value: { clusterName: clusterName(spec.service) } } },
    logName: spec.logName,
    ...(spec.body === undefined ? {} : { body: { value: { case: "stringValue", value: spec.body } } }),
    ...(attributes.length === 0 ? {} : { attributes: { values: attributes.map(([key, value]) => ({ key, value: { value: { case: "stringValue" as const, value } } })) } }),
  });
  return typedExtension("envoy.access_loggers.open_telemetry", OpenTelemetryAccessLogConfigSchema, config);
}
