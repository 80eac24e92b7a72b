import { create } from "@bufbuild/protobuf";
import { ApiVersion, ConfigSourceSchema, type ConfigSource } from "@ts-control-plane/envoy-api/envoy/config/core/v3/config_source_pb";

/**
 * Every dynamic reference (EDS of a cluster, RDS of a listener) is fetched over the same
 * ADS stream, which is what lets the server order pushes CDS, EDS, LDS, RDS (make before
 * break, xds-protocol.md § Ordering). resource_api_version must say V3 explicitly.
 */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, { configSourceSpecifier: { case: "ads", value: {} }, resourceApiVersion: ApiVersion.V3 });
}
