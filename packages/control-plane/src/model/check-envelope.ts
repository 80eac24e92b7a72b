import { didYouMean, oneOf } from "./did-you-mean.ts";
import { formatPath } from "./field-path.ts";
import { isKind } from "./kinds.ts";
import type { Diagnostic } from "./model-object.ts";
import { envelopeSchema } from "./schema/envelope-schema.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { validateObject } from "./validate-object.ts";

/** The keys of a document itself, and of its metadata: declared once, in the envelope's schema. */
export const envelopeFields: readonly string[] = schemaFields(envelopeSchema);
export const metadataFields: readonly string[] = schemaFields(envelopeSchema, "metadata");

/**
 * Unknown keys outside `spec` (at the top level and under `metadata`), and labels that are not a
 * mapping of scalars. The spec validators check every key under `spec`; without this check a key
 * beside them was dropped without a word, so an `endpoints:` block de-indented out of `spec:` was
 * stored as `spec: {}` and applied (issue 12).
 */
export function checkEnvelope(value: Record<string, unknown>, kind: string, object: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const unknown = (path: string[], key: string, allowed: readonly string[], hint?: string): void => {
    const near = didYouMean(key, allowed);
    out.push({
      severity: "error",
      code: "schema.unknown_field",
      message: `unknown field '${key}'`,
      hint: hint ?? (near !== undefined ? `did you mean '${near}'?` : `remove it; allowed fields here: ${oneOf(allowed)}`),
      object,
      path: formatPath([...path, key]),
    });
  };
  for (const key of Object.keys(value).sort()) {
    if (envelopeFields.includes(key)) continue;
    unknown([], key, envelopeFields, belongsInSpec(kind, key, value[key]) ? `'${key}' is a field of ${kind} spec: indent it under spec:` : undefined);
  }
  const metadata = value["metadata"];
  if (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)) {
    const meta = metadata as Record<string, unknown>;
    for (const key of Object.keys(meta).sort()) {
      if (metadataFields.includes(key)) continue;
      const why = key === "namespace" ? "objects have no namespace; " : "";
      unknown(["metadata"], key, metadataFields, didYouMean(key, metadataFields) === undefined ? `${why}remove it; allowed fields here: ${oneOf(metadataFields)}` : undefined);
    }
    const labels = meta["labels"];
    if (labels !== undefined && labels !== null) {
      if (typeof labels !== "object" || Array.isArray(labels)) {
        out.push({ severity: "error", code: "schema.type", message: "labels must be a mapping", hint: 'write labels as "key: value" lines', object, path: "metadata.labels" });
      } else {
        for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
          if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") continue;
          out.push({ severity: "error", code: "schema.type", message: `label ${k} must be a string`, hint: `quote the value of ${k}`, object, path: formatPath(["metadata", "labels", k]) });
        }
      }
    }
  }
  return out;
}

/** Whether `key` is a field the kind's spec knows: the likely reason it sits at the top level is a lost indent. */
function belongsInSpec(kind: string, key: string, v: unknown): boolean {
  if (!isKind(kind)) return false;
  const probe = validateObject({ apiVersion: "", kind, metadata: { name: "probe" }, spec: { [key]: v } });
  return !probe.diagnostics.some((d) => d.code === "schema.unknown_field" && d.path === formatPath(["spec", key]));
}
