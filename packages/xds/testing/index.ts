/**
 * Test helpers for code built on `@ts-control-plane/xds`, published as
 * `@ts-control-plane/xds/testing`: raw wire clients that speak SotW and Delta
 * xDS over gRPC exactly as written (no client-side protocol logic, so a test
 * sees what the server sent), small valid Envoy resources, and the behaviour
 * suite every cache implementation of this library passes. Use the suite to
 * check your own `ConfigWatcher` implementation.
 *
 * @module @ts-control-plane/xds/testing
 */
export { RawStreamClient, type RawStreamClientOptions } from "./raw-stream-client.ts";
export { RawXdsClient, adsPath, type RawRequest } from "./raw-xds-client.ts";
export { RawDeltaClient, deltaAdsPath, deltaNames, type RawDeltaRequest } from "./raw-delta-client.ts";
export { edsCluster, endpoints, httpListener, route } from "./fixtures.ts";
export {
  cacheBehaviour,
  type CacheBehaviourOptions,
  type CacheUnderTest,
  type ServerUnderTest,
  type ServeCache,
} from "./cache-behaviour.ts";
export * as envoyJsonFixtures from "./envoy-fixtures.ts";
// PGV rule introspection, for oracle tests that compare the library's rule
// check with Envoy's own (e2e/pgv): which rules a field carries, and which
// Any fields the check leaves opaque.
export { fieldRules, oneofRequired } from "../src/validate/rule-options.ts";
export { hasRule } from "../src/validate/rule-presence.ts";
export { OPAQUE_ANY_FIELDS } from "../src/validate/opaque-any-fields.ts";
export { TestPki, type TestCertFiles, type TestCertOptions } from "./test-pki.ts";
