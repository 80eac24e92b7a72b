// Public API of the xDS library (the go-control-plane counterpart).
export { TypeUrl, typeUrlOf, typeNameOf, type KnownTypeUrl } from "./resource/type-urls.ts";
export { resourceTypes, resourceType, pushOrder, listenerRouteNames, type ResourceType, type ResourceReference } from "./resource/resource-types.ts";
export { encodeResource, type EncodedResource, type EncodeOptions } from "./resource/encoded-resource.ts";
export { contentHash } from "./resource/content-hash.ts";
export { XdsError, XdsErrorCode } from "./resource/xds-error.ts";
export { createSnapshot, type Snapshot, type SnapshotOptions } from "./cache/snapshot.ts";
export { createSnapshotCache, type SnapshotCache, type SnapshotCacheOptions } from "./cache/snapshot-cache.ts";
export type { ConfigWatcher, ChangeListener, TypeResources } from "./cache/config-watcher.ts";
export { StatusRegistry, type NodeStatus, type TypeStatus, type NackInfo } from "./cache/node-status.ts";
export { createXdsServer, type XdsServer, type XdsServerOptions } from "./server/xds-server.ts";
export type * from "./server/xds-hooks.ts";
export { envoyRegistry } from "./resource/envoy-registry.ts";
export { envoyFromJson, envoyToJson } from "./resource/envoy-json.ts";
export { createLinearCache, type LinearCache, type LinearCacheOptions } from "./cache/linear-cache.ts";
export { createMuxCache, type MuxCache, type MuxCacheOptions } from "./cache/mux-cache.ts";
export type { DeltaRequestEvent, DeltaResponseEvent } from "./server/delta-stream.ts";
export type { DeltaEncoderMetrics } from "./server/delta-response-encoder.ts";
export { validateMessage, type Violation, type ValidateOptions } from "./validate/validate-message.ts";
