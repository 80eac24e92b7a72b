import { re2RegExp } from "@ts-control-plane/xds";

/**
 * Checks that a regular expression is valid RE2, the engine Envoy uses for safe_regex,
 * so a route Envoy would NACK ("missing )", lookaround, backreferences) is refused here.
 * Returns a short reason, or undefined when the expression is valid.
 */
export function checkRe2(source: string): string | undefined {
  try {
    re2RegExp(source);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : "invalid";
  }
}
