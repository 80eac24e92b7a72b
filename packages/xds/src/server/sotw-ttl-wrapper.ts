import type { EncodedResource } from "../resource/encoded-resource.ts";
import { concat, durationBytes, lengthDelimited, stringField } from "../resource/wire.ts";

/** The type URL of `envoy.service.discovery.v3.Resource`, the wrapper that carries a TTL. */
export const resourceWrapperTypeUrl = "type.googleapis.com/envoy.service.discovery.v3.Resource";

/**
 * A SotW `resources` entry for a resource with a TTL: an Any holding
 * `envoy.service.discovery.v3.Resource { name (3), resource (2), ttl (6) }`.
 * SotW has no per-resource version: Envoy gives a wrapped resource the
 * response's version_info (decoded_resource_impl.h, fromResource), so none is
 * written. Clients announce they unwrap these with the client features
 * xds.config.resource-in-sotw and xds.config.supports-resource-ttl.
 */
export function encodeSotwTtlWrapper(resource: Pick<EncodedResource, "name" | "any">, ttlMs: number): Uint8Array {
  const wrapper = concat([lengthDelimited(2, resource.any), stringField(3, resource.name), lengthDelimited(6, durationBytes(ttlMs))]);
  return concat([stringField(1, resourceWrapperTypeUrl), lengthDelimited(2, wrapper)]);
}

