import { fromJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { envoyRegistry } from "@ts-control-plane/xds";
import type { TypedConfig } from "../../model/read-typed-config.ts";

/**
 * A filter config written as Envoy's proto3 JSON (typed by the generated `*Json` types,
 * so it reads like Envoy's documentation), parsed and packed into an Any. The registry
 * resolves Anys nested inside (a compressor library, for one).
 */
export function packJson<Desc extends DescMessage & { readonly jsonType?: unknown }>(schema: Desc, json: NonNullable<Desc["jsonType"]>): Any {
  return anyPack(schema, fromJson(schema, json as JsonValue, { registry: envoyRegistry() }));
}

/** "1.5s": a proto3 JSON Duration from milliseconds. */
export function jsonDuration(ms: number): string {
  return `${ms / 1000}s`;
}

/** Every request (100%, no runtime override key of ours). */
export function allRequests(key: string): { defaultValue: { numerator: number; denominator: "HUNDRED" }; runtimeKey: string } {
  return { defaultValue: { numerator: 100, denominator: "HUNDRED" }, runtimeKey: key };
}

/** A raw typed_config, already checked by the model (read-typed-config.ts), packed as written. */
export function packTypedConfig(c: TypedConfig): Any {
  const registry = envoyRegistry();
  const schema = registry.getMessage(c.typeUrl.slice(c.typeUrl.lastIndexOf("/") + 1));
  if (schema === undefined) throw new Error(`typed_config ${c.typeUrl} passed the model but is not in the Envoy registry`);
  return anyPack(schema, fromJson(schema, c.json, { registry }));
}
