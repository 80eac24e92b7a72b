import { Composer, isMap, isScalar, isSeq, LineCounter, Parser, type Document } from "yaml";
import { checkEnvelope } from "./check-envelope.ts";
import { formatPath, parsePath, type PathSegment } from "./field-path.ts";
import { objectKey, type Diagnostic, type ModelObject, type SourceRef } from "./model-object.ts";
import { findTooDeep } from "./nesting-depth.ts";
import { runToEnd, type Steps } from "./time-slice.ts";

/** Alias expansions allowed per document: YAML's "billion laughs" must not exhaust memory (issue 14). */
export const maxAliasCount = 100;

export interface ParseOptions {
  /** The file name to put in every SourceRef. */
  file?: string;
}

export interface ParseResult {
  objects: ModelObject[];
  diagnostics: Diagnostic[];
  /** objectKey -> where the object starts. */
  sources: Map<string, SourceRef>;
  /**
   * Where a field of an object was written, e.g. locate("Route/web", "spec.routes[0].backends[0].service"):
   * the deepest node of the path that exists in the file, so a diagnostic from compile() can point at
   * its line. Falls back to the object's start.
   */
  locate: (key: string, path?: string) => SourceRef | undefined;
}

/**
 * Parses a YAML (or JSON) stream of declarative objects, one per document.
 * Never throws on user input: syntax errors and malformed documents become diagnostics;
 * a document that cannot be identified (no kind or metadata.name) is left out.
 */
export function parseDocuments(text: string, options: ParseOptions = {}): ParseResult {
  return runToEnd(parseDocumentSteps(text, options));
}

/** The steps of parseDocuments: one per document. The YAML stream is parsed lazily, document by document. */
export function* parseDocumentSteps(text: string, options: ParseOptions): Steps<ParseResult> {
  const lineCounter = new LineCounter();
  const objects: ModelObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, SourceRef>();
  const docsByKey = new Map<string, Document>();
  const at = (offset: number): SourceRef => {
    const { line, col } = lineCounter.linePos(offset);
    return options.file === undefined ? { line, column: col } : { file: options.file, line, column: col };
  };
  // Before any recursive processing: the parser, toJS and JSON.stringify recurse per level.
  const deep = findTooDeep(text);
  if (deep !== undefined) {
    const upTo = text.slice(0, deep.offset);
    const line = upTo.split("\n").length;
    const column = deep.offset - upTo.lastIndexOf("\n");
    diagnostics.push({
      severity: "error",
      code: "input.too_deep",
      message: `nested too deep (limit ${deep.limit} levels of mappings and lists)`,
      hint: `flatten the structure; no object needs more than ${deep.limit} levels`,
      source: options.file === undefined ? { line, column } : { file: options.file, line, column },
    });
    return { objects, diagnostics, sources, locate: () => undefined };
  }
  // What parseAllDocuments does, one document at a time instead of all at once.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true });
  for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text))) {
    yield;
    const start = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        if (e.code === "DUPLICATE_KEY") {
          // JSON bodies too (issue 14): the last duplicate must not silently win; the path names it.
          const path = pathAt(doc.contents, e.pos[0]);
          diagnostics.push({
            severity: "error",
            code: "yaml.duplicate_key",
            message: `duplicate key ${path === "" ? "" : `${path} `}(map keys must be unique)`,
            hint: "remove one of the two; which one should win is yours to say",
            ...(path === "" ? {} : { path }),
            source: at(e.pos[0]),
          });
          continue;
        }
        diagnostics.push({
          severity: "error",
          code: "yaml.syntax",
          message: e.message.split("\n")[0] ?? e.message,
          hint: "fix the YAML syntax at this line; every document must be a mapping with apiVersion, kind, metadata and spec",
          source: at(e.pos[0]),
        });
      }
      continue;
    }
    // An empty document (or one holding only comments) between `---` separators.
    if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === undefined))) continue;
    if (!isMap(doc.contents)) {
      diagnostics.push({
        severity: "error",
        code: "document.not_object",
        message: "a document must be a mapping (apiVersion, kind, metadata, spec)",
        hint: "write each object as a YAML mapping, separated by `---`",
        source: at(start),
      });
      continue;
    }
    let value: Record<string, unknown>;
    try {
      value = doc.toJS({ maxAliasCount }) as Record<string, unknown>;
    } catch (error) {
      // The yaml library throws (does not report) when aliases expand past maxAliasCount.
      if (!(error instanceof Error) || !/alias/i.test(error.message)) throw error;
      diagnostics.push({
        severity: "error",
        code: "yaml.aliases",
        message: `too many YAML aliases: the document expands aliases (*name) more than ${maxAliasCount} times (limit ${maxAliasCount})`,
        hint: "write the repeated values out, or use fewer aliases",
        source: at(start),
      });
      continue;
    }
    const kind = value["kind"];
    const metadata = value["metadata"];
    const name = isRecord(metadata) ? metadata["name"] : undefined;
    if (typeof kind !== "string" || kind === "" || typeof name !== "string" || name === "") {
      diagnostics.push({
        severity: "error",
        code: "document.unidentified",
        message: typeof kind !== "string" || kind === "" ? "the document has no kind" : "the document has no metadata.name",
        hint: "give every object a kind (e.g. Listener) and a metadata.name",
        source: at(start),
        ...(typeof kind === "string" && kind !== "" ? { path: "metadata.name" } : { path: "kind" }),
      });
      continue;
    }
    const key = objectKey({ kind, metadata: { name } });
    if (docsByKey.has(key)) {
      diagnostics.push({
        severity: "error",
        code: "object.duplicate",
        message: `${key} is defined twice in this file`,
        hint: `rename one of them or remove the duplicate; the first definition is at line ${sources.get(key)?.line ?? "?"}`,
        object: key,
        path: "metadata.name",
        source: at(start),
      });
      continue;
    }
    const spec = value["spec"];
    if (spec !== undefined && spec !== null && !isRecord(spec)) {
      diagnostics.push({
        severity: "error",
        code: "schema.type",
        message: "spec must be a mapping",
        hint: "write the object's settings as a mapping under spec:",
        object: key,
        path: "spec",
        source: at(start),
      });
      continue;
    }
    const labels = isRecord(metadata) ? metadata["labels"] : undefined;
    const meta: ModelObject["metadata"] = { name };
    if (isRecord(labels)) meta.labels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
    objects.push({
      apiVersion: typeof value["apiVersion"] === "string" ? value["apiVersion"] : "",
      kind,
      metadata: meta,
      spec: isRecord(spec) ? spec : {},
    });
    sources.set(key, at(start));
    docsByKey.set(key, doc);
    // Before the object is stored as JSON, where Infinity and NaN become null ("port is required").
    for (const path of nonFinitePaths(value)) {
      const last = path[path.length - 1];
      diagnostics.push({
        severity: "error",
        code: "schema.range",
        message: `${typeof last === "string" ? last : formatPath(path)} is not a finite number (out of range)`,
        hint: "write a number within the field's range, such as a port from 1 to 65535",
        object: key,
        path: formatPath(path),
        source: locate(key, formatPath(path)) ?? at(start),
      });
    }
    const envelope = checkEnvelope(value, kind, key).map((d) => ({ ...d, source: locate(key, d.path) ?? at(start) }));
    envelope.sort((a, b) => (a.source.line ?? 0) - (b.source.line ?? 0) || (a.source.column ?? 0) - (b.source.column ?? 0));
    diagnostics.push(...envelope);
  }
  function locate(key: string, path?: string): SourceRef | undefined {
    const doc = docsByKey.get(key);
    if (doc === undefined) return undefined;
    const segments = path === undefined ? [] : parsePath(path);
    // Walk down as far as the path exists: a missing field points at its parent.
    let node: unknown = doc.contents;
    let offset = doc.contents?.range?.[0] ?? 0;
    for (const s of segments) {
      if (isMap(node)) {
        // Raw resources are reported in Envoy's snake_case names, but may be written in
        // camelCase (proto3 JSON accepts both): either spelling is the same field.
        const camel = typeof s === "string" ? s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()) : s;
        const pair = node.items.find((p) => {
          const k = p.key as { value?: unknown } | null;
          return k !== null && typeof k === "object" && (k.value === s || k.value === camel);
        });
        if (pair === undefined) break;
        const k = pair.key as { range?: [number, number, number] };
        node = pair.value;
        const v = node as { range?: [number, number, number] } | null;
        offset = v?.range?.[0] ?? k.range?.[0] ?? offset;
      } else if (isSeq(node) && typeof s === "number") {
        const item = node.items[s] as { range?: [number, number, number] } | undefined;
        if (item === undefined) break;
        node = item;
        offset = item.range?.[0] ?? offset;
      } else break;
    }
    return at(offset);
  }
  return { objects, diagnostics, sources, locate };
}

/** Paths of the numbers that are Infinity or NaN (1e309, .inf, .nan), found without recursion. */
function nonFinitePaths(root: unknown): PathSegment[][] {
  const out: PathSegment[][] = [];
  const stack: [unknown, PathSegment[]][] = [[root, []]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [v, path] = next;
    if (typeof v === "number" && !Number.isFinite(v)) out.push(path);
    else if (Array.isArray(v)) for (const [i, item] of v.entries()) stack.push([item, [...path, i]]);
    else if (isRecord(v)) for (const [k, item] of Object.entries(v)) stack.push([item, [...path, k]]);
  }
  return out.reverse();
}

/** The path (`spec.routes[0].match`) of the deepest node whose range holds offset, walked without recursion. */
function pathAt(root: unknown, offset: number): string {
  const path: PathSegment[] = [];
  let node: unknown = root;
  const holds = (n: unknown): boolean => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r !== undefined && r[0] <= offset && offset < r[2];
  };
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => holds(p.key) || holds(p.value));
      const key = pair?.key;
      if (pair === undefined || !isScalar(key)) break;
      path.push(String(key.value));
      if (holds(key)) break;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => holds(item));
      if (index < 0) break;
      path.push(index);
      node = node.items[index];
    } else break;
  }
  return formatPath(path);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
