/**
 * The xDS library for Envoy, the go-control-plane counterpart for Node.js:
 * typed Envoy v3 resources, snapshots with a consistency check and an optional
 * PGV rule check, snapshot, linear and mux caches, and a server for State of
 * the World and Delta xDS over ADS and the per-type services, REST and CSDS,
 * with NACK detection, TTL heartbeats, per-node status and hooks.
 *
 * Start with {@link createSnapshotCache}, {@link createSnapshot} and
 * {@link createXdsServer}; docs/migrating-from-go-control-plane.md maps
 * go-control-plane's API to this one.
 *
 * @module @ts-control-plane/xds
 */
export { TypeUrl, typeUrlOf, typeNameOf, type KnownTypeUrl } from "./resource/type-urls.ts";
export { resourceTypes, resourceType, pushOrder, listenerRouteNames, type ResourceType, type ResourceReference } from "./resource/resource-types.ts";
export { encodeResource, type EncodedResource, type EncodeOptions } from "./resource/encoded-resource.ts";
export { contentHash } from "./resource/content-hash.ts";
export { XdsError, XdsErrorCode } from "./resource/xds-error.ts";
export { createSnapshot, encodeSnapshotResource, type Snapshot, type SnapshotOptions } from "./cache/snapshot.ts";
export { createSnapshotCache, type SnapshotCache, type SnapshotCacheOptions } from "./cache/snapshot-cache.ts";
export type { ConfigWatcher, ChangeListener, TypeChange, TypeResources } from "./cache/config-watcher.ts";
export { StatusRegistry, type StatusRegistryOptions, type NodeStatus, type TypeStatus, type NackInfo } from "./cache/node-status.ts";
export { createXdsServer, type XdsCsdsOptions, type XdsServer, type XdsServerOptions } from "./server/xds-server.ts";
export { peerCertificateOf, type XdsAuthorize, type XdsAuthorizeDecision, type XdsPeerCertificate } from "./server/authorize-stream.ts";
export { createTlsCredentials, loadTlsFiles, type TlsCredentials, type TlsMaterial, type XdsTlsOptions } from "./server/tls-credentials.ts";
export type { XdsMetricsRecorder, ResponseSentDetails, AckDetails, XdsServerLoad } from "./server/xds-metrics-recorder.ts";
export type { XdsHooks, HookName, StreamEvent, StreamOpenEvent, StreamRekeyEvent, StreamCloseEvent, RequestEvent, ResponseEvent, AckEvent, NackEvent } from "./server/xds-hooks.ts";
export { envoyRegistry } from "./resource/envoy-registry.ts";
export { envoyFromJson, envoyToJson } from "./resource/envoy-json.ts";
export { createLinearCache, type LinearCache, type LinearCacheOptions } from "./cache/linear-cache.ts";
export { createMuxCache, type MuxCache, type MuxCacheOptions } from "./cache/mux-cache.ts";
export type { DeltaRequestEvent, DeltaResponseEvent } from "./server/delta-stream.ts";
export type { DeltaEncoderMetrics } from "./server/delta-response-encoder.ts";
export { validateMessage, type Violation, type ValidateOptions } from "./validate/validate-message.ts";
export { registerCsds, createCsdsService, type CsdsAuthorize, type CsdsCaller, type CsdsRefusal, type CsdsService, type CsdsServiceOptions } from "./server/csds-service.ts";
export { buildCsdsResponse, encodeCsdsResponse, defaultCsdsLimits, type CsdsAnswer, type CsdsLimits, type CsdsRedact, type CsdsResource, type CsdsSources } from "./server/csds-response.ts";
export { CsdsResourceVersions } from "./server/csds-resource-versions.ts";
export { createRestGateway, type RestGateway, type RestGatewayOptions } from "./server/rest-gateway.ts";
export { restDiscoveryPaths } from "./server/rest-paths.ts";
export type { SotwResponseEvent } from "./server/sotw-stream.ts";
export type { SotwEncoderMetrics } from "./server/response-encoder.ts";
export type { ResponseErrorInfo, StreamErrorInfo } from "./cache/node-status.ts";
export { concat, lengthDelimited, stringField, varintField, varintSize, durationBytes } from "./resource/wire.ts";
export { re2RegExp, Re2SyntaxError, type Re2Options } from "./validate/re2-regexp.ts";
export { typedStructAny } from "./validate/typed-struct.ts";
