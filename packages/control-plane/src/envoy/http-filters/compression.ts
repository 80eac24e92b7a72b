import type { Any } from "@bufbuild/protobuf/wkt";
import { CompressorSchema } from "@ts-control-plane/envoy-api/envoy/extensions/filters/http/compressor/v3/compressor_pb";
import type { CompressionConfig } from "../../model/http-filter-spec.ts";
import { packJson } from "./pack-json.ts";

const libraries = {
  gzip: "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip",
  brotli: "type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli",
} as const;

/**
 * envoy.filters.http.compressor with the gzip or brotli library, for responses whose client
 * accepts that encoding. Two entries (gzip and brotli) may sit on one listener: Envoy
 * picks by the client's accept-encoding.
 */
export function buildCompression(c: CompressionConfig): Any {
  return packJson(CompressorSchema, {
    compressorLibrary: { name: c.algorithm, typedConfig: { "@type": libraries[c.algorithm] } },
    responseDirectionConfig: { commonConfig: { minContentLength: c.minContentLength } },
  });
}
