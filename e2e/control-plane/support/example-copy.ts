import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/** examples/control-plane/, the directory of the example configurations the tests prove. */
export const examplesDir = fileURLToPath(new URL("../../../examples/control-plane/", import.meta.url));

/** One field of one object to change: the only edits allowed are ports and addresses. */
export interface ExampleEdit {
  readonly kind: string;
  readonly name: string;
  /** Path inside the object, e.g. ["spec", "port"] or ["spec", "endpoints", 0, "port"]. */
  readonly path: readonly (string | number)[];
  readonly value: string | number;
}

/**
 * Writes a copy of an example into `dir` with some fields changed and returns its path.
 *
 * The examples name fixed ports (8000, 10000, 5005, ...) and listen on 0.0.0.0;
 * tests run side by side on one machine and stay on loopback, so they rewrite
 * exactly those fields and nothing else: what runs is otherwise the example as
 * a user would copy it. The YAML is edited as a document (comments and layout
 * kept), and an edit that names a missing object or field throws, so a change
 * to the example cannot silently turn an edit into a new field.
 */
export function writeExampleCopy(example: string, edits: readonly ExampleEdit[], dir: string): string {
  const source = join(examplesDir, example);
  const docs = parseAllDocuments(readFileSync(source, "utf8"));
  if (!Array.isArray(docs)) throw new Error(`${example}: not a YAML stream`);
  for (const edit of edits) {
    const doc = docs.find((d) => d.get("kind") === edit.kind && d.getIn(["metadata", "name"]) === edit.name);
    if (doc === undefined) throw new Error(`${example}: no ${edit.kind}/${edit.name} to edit`);
    // Only a listener address may be added (the examples leave it at its 0.0.0.0 default).
    const addable = edit.kind === "Listener" && edit.path.join(".") === "spec.address";
    if (!addable && !doc.hasIn(edit.path)) throw new Error(`${example}: ${edit.kind}/${edit.name} has no ${edit.path.join(".")}`);
    doc.setIn(edit.path, edit.value);
  }
  const out = join(dir, basename(example));
  writeFileSync(out, docs.map((d) => d.toString()).join("---\n"));
  return out;
}

/** The edit that keeps a listener on loopback (tests never listen on every interface). */
export function loopbackListener(name: string): ExampleEdit {
  return { kind: "Listener", name, path: ["spec", "address"], value: "127.0.0.1" };
}
