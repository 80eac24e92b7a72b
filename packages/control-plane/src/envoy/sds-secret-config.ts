import { create } from "@bufbuild/protobuf";
import { SdsSecretConfigSchema, type SdsSecretConfig } from "@ts-control-plane/envoy-api/envoy/extensions/transport_sockets/tls/v3/secret_pb";
import { secretName } from "../graph/resource-names.ts";
import { adsConfigSource } from "./ads-config-source.ts";

/**
 * A reference to a Secret object's SDS resource, fetched on the ADS stream like every other
 * dynamic reference (ads-config-source.ts). The listener or cluster holds only the name, so a
 * new certificate changes the Secret alone and Envoy swaps it in without touching them.
 */
export function sdsSecretConfig(secret: string): SdsSecretConfig {
  return create(SdsSecretConfigSchema, { name: secretName(secret), sdsConfig: adsConfigSource() });
}
