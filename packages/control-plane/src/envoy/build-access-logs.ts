import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { AccessLogSchema } from "@ts-control-plane/envoy-api/envoy/config/accesslog/v3/accesslog_pb";
import { FileAccessLogSchema } from "@ts-control-plane/envoy-api/envoy/extensions/access_loggers/file/v3/file_pb";
import type { GraphAccessLog } from "../graph/graph.ts";
import { buildOpenTelemetryAccessLog } from "./build-open-telemetry-access-log.ts";
import { typedExtension } from "./typed-extension.ts";

/** File and OpenTelemetry access loggers, usable by the HTTP connection manager, tcp_proxy and udp_proxy alike. */
export function buildAccessLogs(logs: readonly GraphAccessLog[]): MessageInitShape<typeof AccessLogSchema>[] {
  return logs.map((log) => {
    if (log.spec.type === "opentelemetry") return buildOpenTelemetryAccessLog(log.spec);
    const f = log.spec.format;
    const file = create(FileAccessLogSchema, {
      path: log.spec.path,
      ...(f === undefined
        ? {}
        : {
            accessLogFormat: {
              case: "logFormat" as const,
              value:
                "text" in f
                  ? { format: { case: "textFormatSource" as const, value: { specifier: { case: "inlineString" as const, value: f.text } } } }
                  : { format: { case: "jsonFormat" as const, value: sortedObject(f.json) } },
            },
          }),
    });
    return typedExtension("envoy.access_loggers.file", FileAccessLogSchema, file);
  });
}

function sortedObject(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
