// The generated API is Envoy 1.40's (go-control-plane's envoy module v1.40.0),
// not the mid-2024 tree bundled in @grpc/grpc-js-xds: rules Envoy relaxed since
// are relaxed here too, and fields added since exist in the types and registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromJson, toJson } from "@bufbuild/protobuf";
import {
  RuntimeDoubleSchema,
  RuntimeFeatureFlagSchema,
  RuntimePercentSchema,
  RuntimeUInt32Schema,
} from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { TokenBucketSchema } from "@ts-control-plane/envoy-api/envoy/type/v3/token_bucket_pb";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import { validateMessage } from "./validate-message.ts";

test("TokenBucket.max_tokens may be 0 (envoyproxy/envoy#45848 relaxed gt: 0 to gte: 0)", () => {
  const bucket = create(TokenBucketSchema, { maxTokens: 0, fillInterval: { seconds: 1n } });
  assert.deepEqual(validateMessage(TokenBucketSchema, bucket), []);
});

test("an empty runtime_key is allowed in the Runtime* value messages (envoyproxy/envoy#39774)", () => {
  assert.deepEqual(validateMessage(RuntimeUInt32Schema, create(RuntimeUInt32Schema, { runtimeKey: "" })), []);
  assert.deepEqual(validateMessage(RuntimePercentSchema, create(RuntimePercentSchema, { runtimeKey: "" })), []);
  assert.deepEqual(validateMessage(RuntimeDoubleSchema, create(RuntimeDoubleSchema, { runtimeKey: "" })), []);
  const flag = create(RuntimeFeatureFlagSchema, { runtimeKey: "", defaultValue: true });
  assert.deepEqual(validateMessage(RuntimeFeatureFlagSchema, flag), []);
});

test("Listener.tcp_keepalive (field 37, added after mid-2024) is in the generated types and the registry", () => {
  // Typed: this line does not compile against the mid-2024 API.
  const listener = create(ListenerSchema, { name: "l", tcpKeepalive: { keepaliveTime: 30 } });
  assert.equal(ListenerSchema.field.tcpKeepalive.number, 37);
  const registry = envoyRegistry();
  const json = toJson(ListenerSchema, listener, { registry });
  assert.deepEqual(json, { name: "l", tcpKeepalive: { keepaliveTime: 30 } });
  const desc = registry.getMessage("envoy.config.listener.v3.Listener");
  assert.equal(desc?.fields.find((f) => f.name === "tcp_keepalive")?.number, 37);
  assert.deepEqual(fromJson(ListenerSchema, json, { registry }).tcpKeepalive?.keepaliveTime, 30);
});
