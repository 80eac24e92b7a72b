import type { NodeMatcher } from "@ts-control-plane/envoy-api/envoy/type/matcher/v3/node_pb";
import type { StringMatcher } from "@ts-control-plane/envoy-api/envoy/type/matcher/v3/string_pb";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

/** What CSDS knows of a node to match it: the status registry keeps id and cluster, not metadata. */
export interface MatchableNode {
  readonly id: string;
}

/**
 * Compiles a ClientStatusRequest's node_matchers into one predicate. The CSDS
 * API gives the matchers OR semantics, and no matcher at all selects every node.
 *
 * Throws XdsError "invalid_argument" for what cannot be evaluated honestly:
 * node_metadatas (the status registry does not keep node metadata), custom
 * string matchers, and invalid regular expressions. Answering such a request
 * with "no node matches" would look like "no client is connected".
 */
export function compileNodeMatchers(matchers: readonly NodeMatcher[]): (node: MatchableNode) => boolean {
  if (matchers.length === 0) return () => true;
  const compiled = matchers.map((m, i) => {
    if (m.nodeMetadatas.length > 0) {
      throw new XdsError(XdsErrorCode.InvalidArgument, `node_matchers[${i}].node_metadatas is not supported: match on node_id`);
    }
    // A matcher without node_id constrains nothing, so it matches every node.
    return m.nodeId === undefined ? () => true : compileStringMatcher(m.nodeId, `node_matchers[${i}].node_id`);
  });
  return (node) => compiled.some((match) => match(node.id));
}

/** envoy.type.matcher.v3.StringMatcher as a predicate. */
export function compileStringMatcher(matcher: StringMatcher, path: string): (value: string) => boolean {
  const fold = matcher.ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  const p = matcher.matchPattern;
  switch (p.case) {
    case "exact": {
      const want = fold(p.value);
      return (v) => fold(v) === want;
    }
    case "prefix": {
      const want = fold(p.value);
      return (v) => fold(v).startsWith(want);
    }
    case "suffix": {
      const want = fold(p.value);
      return (v) => fold(v).endsWith(want);
    }
    case "contains": {
      const want = fold(p.value);
      return (v) => fold(v).includes(want);
    }
    case "safeRegex": {
      // Envoy's safe_regex is RE2 and must match the whole value; a JS RegExp
      // anchored on both ends agrees for the RE2 subset node ids are matched with.
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${p.value.regex})$`, "u");
      } catch (error) {
        throw new XdsError(XdsErrorCode.InvalidArgument, `${path}.safe_regex is not a valid regular expression: ${(error as Error).message}`);
      }
      return (v) => re.test(v);
    }
    case "custom":
      throw new XdsError(XdsErrorCode.InvalidArgument, `${path}.custom string matchers are not supported`);
    default:
      throw new XdsError(XdsErrorCode.InvalidArgument, `${path} has no match pattern (exact, prefix, suffix, contains or safe_regex)`);
  }
}
