import { isMap, isSeq, parseDocument } from "yaml";
import { findTooDeep, maxNestingDepth } from "../model/nesting-depth.ts";
import { runSliced, type Steps } from "../model/time-slice.ts";

/**
 * The YAML stream to parse for a request body: multi-document YAML as is; a JSON
 * array, or `{ "items": [...] }`, as one document per item, so that every object
 * gets its own diagnostics and positions. The items are cut from the body's own
 * text rather than re-serialized from JSON.parse: JSON is YAML, so the strict YAML
 * parser then refuses duplicate keys (JSON.parse lets the last one win) and keeps
 * 1e309 as the number it is (JSON.stringify would turn it into null, "port is
 * required") (issue 14). A body that is not valid as a whole is returned as is,
 * for the parser to say where it breaks. A JSON body is cut in slices that give the
 * event loop a turn now and then (a 20,000-object body, issue 14).
 */
export function bodyDocuments(text: string): Promise<string> {
  return runSliced(bodyDocumentSteps(text));
}

function* bodyDocumentSteps(text: string): Steps<string> {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("[") && !trimmed.startsWith("{")) return text;
  // Valid JSON (what the CLI sends) is cut by a scan of its text: parsing 20,000 objects as one
  // YAML document took most of a second in one go, blocking the event loop (issue 14). JSON.parse
  // and the scans do not recurse, so a deep body is safe here; it is left to the path below.
  const items = yield* jsonItems(text);
  if (items !== undefined) return items.join("\n---\n");
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

/**
 * The items of a valid JSON array or `{ "items": [...] }`, as slices of the text; undefined
 * for anything else (not JSON, no items list, a key given twice anywhere, nested deeper
 * than maxNestingDepth), which the YAML path handles: it names a duplicate key by its path
 * in the whole body, and a body too deep by its line in the body.
 */
function* jsonItems(text: string): Steps<string[] | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  yield;
  if (yield* duplicateKeyOrTooDeep(text)) return undefined;
  const start = skipSpace(text, 0);
  if (Array.isArray(value)) return yield* arrayItems(text, start);
  if (typeof value !== "object" || value === null || !Array.isArray((value as { items?: unknown }).items)) return undefined;
  // The text is valid JSON: walk the root object's members to find where `items` is.
  let at: number | undefined;
  let i = skipSpace(text, start + 1);
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipValue(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, skipSpace(text, keyEnd) + 1);
    if (key === "items") {
      if (at !== undefined) return undefined;
      at = i;
    }
    i = skipSpace(text, skipValue(text, i));
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return at === undefined ? undefined : yield* arrayItems(text, at);
}

/** The items of the (valid) JSON array starting at `[`, each as its slice of the text. */
function* arrayItems(text: string, open: number): Steps<string[]> {
  const out: string[] = [];
  let i = skipSpace(text, open + 1);
  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACKET) {
    yield;
    const end = skipValue(text, i);
    out.push(text.slice(i, end));
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return out;
}

/**
 * Whether an object of the (valid) JSON text has a key twice, which JSON.parse lets pass (the
 * last wins), or the text nests deeper than maxNestingDepth.
 */
function* duplicateKeyOrTooDeep(text: string): Steps<boolean> {
  /** Per open object or array: the keys seen (undefined for an array) and whether a key comes next. */
  const frames: { keys: Set<string> | undefined; keyNext: boolean }[] = [];
  let frame: (typeof frames)[number] | undefined;
  for (let i = 0; i < text.length; i++) {
    if ((i & 0xffff) === 0) yield;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (frame?.keys !== undefined && frame.keyNext) {
        const raw = text.slice(i, end);
        const key = raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (frame.keys.has(key)) return true;
        frame.keys.add(key);
        frame.keyNext = false;
      }
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      frame = { keys: c === OPEN_BRACE ? new Set() : undefined, keyNext: c === OPEN_BRACE };
      if (frames.push(frame) > maxNestingDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      frames.pop();
      frame = frames[frames.length - 1];
    } else if (c === COMMA && frame !== undefined) frame.keyNext = frame.keys !== undefined;
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The index just after the (valid) JSON string starting at the quote at i. */
function stringEnd(text: string, i: number): number {
  let j = text.indexOf('"', i + 1);
  for (;;) {
    // A quote preceded by an odd number of backslashes is escaped.
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j + 1;
    j = text.indexOf('"', j + 1);
  }
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function skipSpace(text: string, i: number): number {
  let j = i;
  while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  return j;
}

/** The index just after the (valid) JSON value starting at i; no recursion, so depth costs nothing. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  let j = i;
  do {
    const c = text.charCodeAt(j);
    if (c === QUOTE) j = stringEnd(text, j);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      j++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      j++;
    } else if (depth > 0) j++;
    else {
      // A number, true, false or null: up to the next delimiter.
      for (let d = text.charCodeAt(j); j < text.length && !isSpace(d) && d !== COMMA && d !== CLOSE_BRACKET && d !== CLOSE_BRACE; d = text.charCodeAt(++j));
    }
  } while (depth > 0 && j < text.length);
  return j;
}
