import { isMap, isSeq, parseDocument } from "yaml";
import { findTooDeep } from "../model/nesting-depth.ts";

/**
 * The YAML stream to parse for a request body: multi-document YAML as is; a JSON
 * array, or `{ "items": [...] }`, as one document per item, so that every object
 * gets its own diagnostics and positions. The items are cut from the body's own
 * text rather than re-serialized from JSON.parse: JSON is YAML, so the strict YAML
 * parser then refuses duplicate keys (JSON.parse lets the last one win) and keeps
 * 1e309 as the number it is (JSON.stringify would turn it into null, "port is
 * required") (issue 14). A body that is not valid as a whole is returned as is,
 * for the parser to say where it breaks.
 */
export function bodyDocuments(text: string): string {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("[") && !trimmed.startsWith("{")) return text;
  // Parsing recurses per level: leave a too-deep body to parseDocuments, which refuses it first.
  if (findTooDeep(text) !== undefined) return text;
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return text;
  const root = doc.contents;
  const list = isSeq(root) ? root : isMap(root) ? root.get("items", true) : undefined;
  if (!isSeq(list)) return text;
  const slices: string[] = [];
  for (const item of list.items) {
    const range = (item as { range?: [number, number, number] } | null)?.range;
    if (range === undefined) return text;
    slices.push(text.slice(range[0], range[1]));
  }
  return slices.join("\n---\n");
}
