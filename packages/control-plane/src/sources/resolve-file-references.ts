import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Diagnostic, ModelObject } from "../model/model-object.ts";

/** Fields naming a file whose content compile() expects inline under the paired name. */
const fileFields: ReadonlyMap<string, string> = new Map([
  ["certificateFile", "certificate"],
  ["keyFile", "key"],
  ["caCertificatesFile", "caCertificates"],
]);

/**
 * Reads certificateFile / keyFile / caCertificatesFile into inline PEM (`certificate` / `key` /
 * `caCertificates`), so
 * compile() stays pure and the store holds everything needed after a restart.
 * Relative file names are resolved against `baseDir` (the YAML file's folder).
 * The file fields are kept, so the operator still sees where the PEM came from.
 * An unreadable file becomes a diagnostic on its field, never an exception.
 * With `readFiles: false` (request bodies) every file reference is refused instead.
 */
export function resolveFileReferences(
  object: ModelObject,
  options: { baseDir: string; readFiles?: boolean },
): { object: ModelObject; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const key = `${object.kind}/${object.metadata.name}`;
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, `${path}.${k}`);
    for (const [fileField, inline] of fileFields) {
      const file = out[fileField];
      if (typeof file !== "string" || out[inline] !== undefined) continue;
      if (options.readFiles === false) {
        // Reading server-side paths named in a request body would let any API caller
        // read files of the control plane's machine (the PEM is served back by GET).
        diagnostics.push({
          severity: "error",
          code: "api.file_reference",
          message: `${fileField} names a file, and the admin API never reads files on the control plane's machine`,
          hint: `send the PEM inline as ${inline} (\`tcp apply -f\` reads ${fileField} on your machine and does this for you), or put the object in a --config file`,
          object: key,
          path: `${path}.${fileField}`,
        });
        continue;
      }
      const full = isAbsolute(file) ? file : resolve(options.baseDir, file);
      try {
        out[inline] = readFileSync(full, "utf8");
      } catch (error) {
        diagnostics.push({
          severity: "error",
          code: "file.unreadable",
          message: `cannot read ${fileField} ${full}: ${error instanceof Error ? error.message : String(error)}`,
          hint: `make the file readable by the control plane (relative names are resolved from ${options.baseDir}), or write the PEM inline as ${inline}`,
          object: key,
          path: `${path}.${fileField}`,
        });
      }
    }
    return out;
  };
  const spec = walk(object.spec, "spec") as Record<string, unknown>;
  return { object: { ...object, spec }, diagnostics };
}
