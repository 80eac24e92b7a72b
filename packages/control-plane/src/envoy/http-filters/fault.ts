import type { Any } from "@bufbuild/protobuf/wkt";
import { HTTPFaultSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/fault/v3/fault_pb";
import type { FaultConfig } from "../../model/http-filter-spec.ts";
import { jsonDuration, packJson } from "./pack-json.ts";

/** envoy.filters.http.fault; the same message is the per-route config (fault.proto). */
export function buildFault(c: FaultConfig): Any {
  return packJson(HTTPFaultSchema, {
    ...(c.abort === undefined ? {} : { abort: { httpStatus: c.abort.status, percentage: { numerator: c.abort.percent, denominator: "HUNDRED" } } }),
    ...(c.delay === undefined ? {} : { delay: { fixedDelay: jsonDuration(c.delay.durationMs), percentage: { numerator: c.delay.percent, denominator: "HUNDRED" } } }),
  });
}
