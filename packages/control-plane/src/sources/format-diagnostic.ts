import type { Diagnostic } from "../model/model-object.ts";

/**
 * One line per diagnostic, the way compilers print them so editors can jump to it:
 * `file:line:col: error: Kind/name spec.path: message (hint: ...)`.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.source === undefined
    ? ""
    : [d.source.file ?? "<input>", d.source.line, d.source.column].filter((p) => p !== undefined).join(":") + ": ";
  const subject = [d.object, d.path].filter((p) => p !== undefined && p !== "").join(" ");
  return `${where}${d.severity}: ${subject === "" ? "" : subject + ": "}${d.message}${d.hint === undefined ? "" : ` (hint: ${d.hint})`} [${d.code}]`;
}
