/**
 * Any fields whose contents Envoy never validates: payloads it stores or hands
 * on without resolving them (metadata for filters, Wasm plugin configuration,
 * values copied into dynamic metadata). Their type may well be unknown to Envoy,
 * and a rule-breaking message in them is accepted; checked against Envoy 1.40
 * (`--mode validate` on binary bootstraps holding an unknown type and an invalid
 * Cluster in typed_filter_metadata: both OK). Rules on the field itself
 * (any.required, in, not_in) still apply; the contents are not unpacked.
 *
 * Everything else (typed_config of extensions, transport sockets, filters,
 * typed_per_filter_config, typed_extension_protocol_options) is resolved by an
 * extension factory, which validates it.
 */
export const OPAQUE_ANY_FIELDS: ReadonlySet<string> = new Set([
  "envoy.config.core.v3.Metadata.typed_filter_metadata",
  "envoy.extensions.wasm.v3.PluginConfig.configuration",
  "envoy.extensions.wasm.v3.VmConfig.configuration",
  "envoy.extensions.filters.http.set_metadata.v3.Metadata.typed_value",
  "envoy.data.accesslog.v3.AccessLogCommon.filter_state_objects",
]);
