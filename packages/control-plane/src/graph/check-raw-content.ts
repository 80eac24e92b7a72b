import type { Diagnostic } from "../model/model-object.ts";
import type { RawResourceSpec } from "../model/raw-resource-spec.ts";
import { checkRe2 } from "../model/re2-check.ts";
import { findFilenameSources } from "./find-filename-sources.ts";
import { findRawDomainConflicts } from "./find-raw-domain-conflicts.ts";
import { findRawRegexes } from "./find-raw-regexes.ts";

/**
 * What a raw resource is refused for on its own, wherever it lands: a DataSource naming a
 * file unless the operator allows it (issue 13: whoever may write objects must not make
 * Envoy read files on its host), a regex that is not RE2, a domain claimed twice in one
 * route table (Envoy NACKs the whole resource for either). The first problem found, at its
 * path under spec.resource, or undefined.
 */
export function checkRawContent(name: string, spec: RawResourceSpec, options: { readonly allowFilename: boolean }): Diagnostic | undefined {
  const object = `RawResource/${name}`;
  const type = shortType(spec.typeUrl);
  if (!options.allowFilename) {
    const [first, ...more] = findFilenameSources(spec.message);
    if (first !== undefined) {
      return {
        severity: "error",
        code: "raw.filename",
        message: `the ${type} makes Envoy read the file ${JSON.stringify(first.filename)} on its host${more.length > 0 ? ` (and ${more.length} more file${more.length === 1 ? "" : "s"})` : ""}, which is refused`,
        hint: "write the content inline (inline_string or inline_bytes), or start the control plane with --allow-raw-filename to allow files",
        object,
        path: `spec.resource.${first.path}.filename`,
      };
    }
  }
  for (const { path, regex } of findRawRegexes(spec.message)) {
    const problem = checkRe2(regex);
    if (problem === undefined) continue;
    return {
      severity: "error",
      code: "raw.invalid_regex",
      message: `regex '${regex}' is not valid RE2: ${problem}; Envoy would reject the whole ${type}`,
      hint: "fix the expression; Envoy uses RE2 syntax (no lookahead, lookbehind or backreferences)",
      object,
      path: `spec.resource.${path}`,
    };
  }
  const [dup] = findRawDomainConflicts(spec.message);
  if (dup !== undefined) {
    return {
      severity: "error",
      code: "raw.domain_conflict",
      message: `domain '${dup.domain}' is already served by virtual host '${dup.virtualHost}' of the same RouteConfiguration; Envoy would reject the whole ${type}`,
      hint: `merge the two virtual hosts, or remove '${dup.domain}' from one of them`,
      object,
      path: `spec.resource.${dup.path}`,
    };
  }
  return undefined;
}

/** `envoy.config.cluster.v3.Cluster` → `Cluster`. */
export function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}
