import type { Message } from "@bufbuild/protobuf";
import { envoyToJson } from "@ts-control-plane/xds";
import type { Json } from "./config-dump.ts";

/**
 * A protobuf-es Envoy message as proto3 JSON with snake_case field names, the
 * form Envoy's bootstrap and /config_dump use. Lets a test put a resource built
 * for xDS into a static bootstrap, or compare it with a config dump.
 */
export function toEnvoyJson(message: Message): Json {
  return envoyToJson(message) as Json;
}
