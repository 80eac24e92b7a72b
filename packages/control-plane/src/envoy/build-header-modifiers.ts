import type { MessageInitShape } from "@bufbuild/protobuf";
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOptionSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { HeaderModifier, HeaderModifiers } from "../model/header-modifier-spec.ts";

/** The *_headers_to_add / *_headers_to_remove fields shared by RouteConfiguration, VirtualHost and Route. */
export interface HeaderModifierFields {
  requestHeadersToAdd?: MessageInitShape<typeof HeaderValueOptionSchema>[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: MessageInitShape<typeof HeaderValueOptionSchema>[];
  responseHeadersToRemove?: string[];
}

/** Header changes as Envoy fields; fields with nothing to say are left out so config dumps stay short. */
export function buildHeaderModifiers(h: HeaderModifiers | undefined): HeaderModifierFields {
  const out: HeaderModifierFields = {};
  const req = options(h?.request);
  const res = options(h?.response);
  if (req.length > 0) out.requestHeadersToAdd = req;
  if ((h?.request?.remove.length ?? 0) > 0) out.requestHeadersToRemove = [...(h?.request?.remove ?? [])];
  if (res.length > 0) out.responseHeadersToAdd = res;
  if ((h?.response?.remove.length ?? 0) > 0) out.responseHeadersToRemove = [...(h?.response?.remove ?? [])];
  return out;
}

function options(m: HeaderModifier | undefined): MessageInitShape<typeof HeaderValueOptionSchema>[] {
  if (m === undefined) return [];
  return [
    ...m.add.map((p) => ({ header: { key: p.name, value: p.value }, appendAction: HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD })),
    ...m.set.map((p) => ({ header: { key: p.name, value: p.value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD })),
  ];
}
