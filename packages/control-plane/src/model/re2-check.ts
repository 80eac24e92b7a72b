/**
 * A best-effort check that a regular expression is valid RE2, the engine Envoy uses
 * (safe_regex). JavaScript accepts a superset of RE2 for the common cases, so an
 * expression JS rejects is invalid, and the constructs RE2 forbids are caught by name.
 * Returns a short reason, or undefined when the expression looks valid.
 */
export function checkRe2(source: string): string | undefined {
  if (/\(\?<?[=!]/.test(source)) return "lookahead and lookbehind are not supported";
  if (/\\[1-9]/.test(source)) return "backreferences are not supported";
  try {
    // RE2 spells named groups (?P<name>...), JavaScript (?<name>...).
    new RegExp(source.replaceAll("(?P<", "(?<"));
  } catch (e) {
    return e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : "invalid";
  }
  return undefined;
}
