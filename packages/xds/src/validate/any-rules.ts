import { fromBinary, fromJson, type JsonObject } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { AnyRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { allOf, type Check, type CheckContext, report } from "./check-context.ts";
import { decodeTypedStruct, TYPED_STRUCT_NAMES } from "./typed-struct.ts";

/** AnyRules on a present Any: in / not_in over its type URL (required is the caller's). */
export function compileAnyRules(r: AnyRules): Check | undefined {
  const checks: (Check | undefined)[] = [];
  if (r.in.length > 0) {
    const set = new Set(r.in);
    const text = `type URL must be in list [${r.in.join(" ")}]`;
    checks.push((v, ctx) => {
      if (!set.has((v as Any).typeUrl)) report(ctx, "any.in", text);
    });
  }
  if (r.notIn.length > 0) {
    const set = new Set(r.notIn);
    const text = `type URL must not be in list [${r.notIn.join(" ")}]`;
    checks.push((v, ctx) => {
      if (set.has((v as Any).typeUrl)) report(ctx, "any.not_in", text);
    });
  }
  return allOf(checks);
}

/**
 * Validates what an Any holds, as Envoy does when it loads a typed config
 * (MessageUtil::anyConvertAndValidate): a type it cannot resolve is an error,
 * not something to skip, since Envoy rejects it too.
 */
export function validateAnyContents(any: Any, ctx: CheckContext): void {
  const url = any.typeUrl;
  if (url === "") {
    report(ctx, "any.type_url", "type URL must not be empty");
    return;
  }
  const typeName = url.slice(url.lastIndexOf("/") + 1);
  if (TYPED_STRUCT_NAMES.has(typeName)) {
    validateTypedStruct(typeName, any.value, ctx);
    return;
  }
  const desc = ctx.registry().getMessage(typeName);
  if (desc === undefined) {
    if (ctx.reportUnknownAny) report(ctx, "any.type_url", `type URL ${JSON.stringify(url)} is not a known type`);
    return;
  }
  let inner: unknown;
  try {
    inner = fromBinary(desc, any.value);
  } catch (e) {
    report(ctx, "any.value", `value cannot be decoded as ${desc.typeName}: ${(e as Error).message}`);
    return;
  }
  ctx.validateNested(desc, inner, ctx);
}

/** A TypedStruct's JSON, read as the type it names, is validated like a packed message. */
function validateTypedStruct(typeName: string, bytes: Uint8Array, ctx: CheckContext): void {
  let ts: { typeUrl: string; value: JsonObject };
  try {
    ts = decodeTypedStruct(typeName, bytes);
  } catch (e) {
    report(ctx, "any.value", `value cannot be decoded as ${typeName}: ${(e as Error).message}`);
    return;
  }
  const registry = ctx.registry();
  const desc = registry.getMessage(ts.typeUrl.slice(ts.typeUrl.lastIndexOf("/") + 1));
  if (desc === undefined) {
    if (ctx.reportUnknownAny) report(ctx, "any.type_url", `TypedStruct type URL ${JSON.stringify(ts.typeUrl)} is not a known type`);
    return;
  }
  let inner: unknown;
  try {
    inner = fromJson(desc, ts.value, { registry });
  } catch (e) {
    report(ctx, "any.value", `TypedStruct value is not a valid ${desc.typeName}: ${(e as Error).message}`);
    return;
  }
  ctx.validateNested(desc, inner, ctx);
}
