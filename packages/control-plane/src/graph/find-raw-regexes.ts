import type { Message } from "@bufbuild/protobuf";
import { walkRawMessage } from "./walk-raw-message.ts";

/** A regular expression written in a raw resource, and where. */
export interface RawRegex {
  /** Field path from the resource, e.g. `virtual_hosts[0].routes[0].match.safe_regex.regex`. */
  readonly path: string;
  readonly regex: string;
}

/**
 * Every `envoy.type.matcher.v3.RegexMatcher` in a raw resource, at any depth: route
 * safe_regex, header and query matchers (string_match.safe_regex), regex_rewrite patterns,
 * CORS origins, and those inside packed filters. Envoy compiles them all with RE2 and NACKs
 * the whole resource for one it cannot compile.
 */
export function findRawRegexes(message: Message): RawRegex[] {
  const out: RawRegex[] = [];
  walkRawMessage(message, ({ typeName, fields, path }) => {
    if (typeName !== "envoy.type.matcher.v3.RegexMatcher") return undefined;
    const regex = fields["regex"];
    if (typeof regex === "string") out.push({ path: path === "" ? "regex" : `${path}.regex`, regex });
    return true;
  });
  return out;
}
