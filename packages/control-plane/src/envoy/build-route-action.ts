import type { MessageInitShape } from "@bufbuild/protobuf";
import { RedirectAction_RedirectResponseCode, type DirectResponseActionSchema, type RedirectActionSchema, type RetryPolicySchema, type RouteAction_RequestMirrorPolicySchema } from "@ts-control-plane/envoy-api/envoy/config/route/v3/route_components_pb";
import { FractionalPercent_DenominatorType } from "@ts-control-plane/envoy-api/envoy/type/v3/percent_pb";
import { clusterName } from "../graph/resource-names.ts";
import type { RedirectCode, RedirectSpec, DirectResponseSpec, MirrorSpec } from "../model/route-action-spec.ts";
import type { RetryPolicySpec } from "../model/retry-policy-spec.ts";
import { durationFromMs } from "./durations.ts";

const codes: Record<RedirectCode, RedirectAction_RedirectResponseCode> = {
  301: RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
  302: RedirectAction_RedirectResponseCode.FOUND,
  303: RedirectAction_RedirectResponseCode.SEE_OTHER,
  307: RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT,
  308: RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT,
};

export function buildRedirect(r: RedirectSpec): MessageInitShape<typeof RedirectActionSchema> {
  const out: MessageInitShape<typeof RedirectActionSchema> = { responseCode: codes[r.responseCode], stripQuery: r.stripQuery };
  if (r.scheme !== undefined) out.schemeRewriteSpecifier = { case: "schemeRedirect", value: r.scheme };
  if (r.host !== undefined) out.hostRedirect = r.host;
  if (r.port !== undefined) out.portRedirect = r.port;
  if (r.path !== undefined) out.pathRewriteSpecifier = { case: "pathRedirect", value: r.path };
  else if (r.prefix !== undefined) out.pathRewriteSpecifier = { case: "prefixRewrite", value: r.prefix };
  return out;
}

export function buildDirectResponse(d: DirectResponseSpec): MessageInitShape<typeof DirectResponseActionSchema> {
  return d.body === undefined ? { status: d.status } : { status: d.status, body: { specifier: { case: "inlineString", value: d.body } } };
}

export function buildMirrors(mirrors: readonly MirrorSpec[]): MessageInitShape<typeof RouteAction_RequestMirrorPolicySchema>[] {
  return mirrors.map((m) => ({
    cluster: clusterName(m.service),
    // 100% is Envoy's default; spelling it out anyway keeps the dump honest about what is copied.
    runtimeFraction: { defaultValue: { numerator: m.percent, denominator: FractionalPercent_DenominatorType.HUNDRED } },
  }));
}

export function buildRetryPolicy(r: RetryPolicySpec): MessageInitShape<typeof RetryPolicySchema> {
  const out: MessageInitShape<typeof RetryPolicySchema> = { retryOn: r.retryOn.join(","), numRetries: r.attempts };
  if (r.perTryTimeoutMs !== undefined) out.perTryTimeout = durationFromMs(r.perTryTimeoutMs);
  if (r.retriableStatusCodes !== undefined) out.retriableStatusCodes = [...r.retriableStatusCodes];
  if (r.backOff !== undefined) {
    out.retryBackOff = { baseInterval: durationFromMs(r.backOff.baseMs), ...(r.backOff.maxMs === undefined ? {} : { maxInterval: durationFromMs(r.backOff.maxMs) }) };
  }
  return out;
}

/** Route-level upgrade switches, sorted by type. */
export function buildRouteUpgrades(upgrades: Record<string, boolean>): { upgradeType: string; enabled: boolean }[] {
  return Object.keys(upgrades)
    .sort()
    .map((t) => ({ upgradeType: t, enabled: upgrades[t] ?? false }));
}
