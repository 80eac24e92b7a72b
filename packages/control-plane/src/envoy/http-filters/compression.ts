import type { Any } from "@bufbuild/protobuf/wkt";
import { CompressorSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/compressor/v3/compressor_pb";
import type { CompressionConfig } from "../../model/http-filter-spec.ts";
import { packJson } from "./pack-json.ts";

/** envoy.filters.http.compressor with the gzip library, for responses the client accepts gzip for. */
export function buildCompression(c: CompressionConfig): Any {
  return packJson(CompressorSchema, {
    compressorLibrary: { name: "gzip", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip" } },
    responseDirectionConfig: { commonConfig: { minContentLength: c.minContentLength } },
  });
}
