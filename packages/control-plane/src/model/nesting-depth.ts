/** How deep mappings and lists may nest in one YAML or JSON text; real configuration stays far below. */
export const maxNestingDepth = 100;

/** Where a text first nests deeper than the limit. */
export interface TooDeep {
  readonly limit: number;
  /** Character offset of the first collection past the limit. */
  readonly offset: number;
}

/**
 * Finds the first place a YAML (or JSON, which is YAML) text nests deeper than
 * `limit`, in one pass and without recursion, so that a body nested 200,000
 * deep is refused before the YAML parser, toJS or JSON.stringify recurse on it
 * and overflow the stack (issue 14). It over-approximates rather than parses:
 * flow brackets (`[`, `{`) at the start of a token, block indentation levels and
 * compact indicators (`- - -`, `? `) each count one level; quoted strings and
 * comments are skipped.
 */
export function findTooDeep(text: string, limit: number = maxNestingDepth): TooDeep | undefined {
  const indents: number[] = []; // open block levels, by column
  let flow = 0;
  let quote: '"' | "'" | undefined;
  let atLineStart = true;
  let i = 0;
  const n = text.length;
  const tokenStart = (at: number): boolean => {
    const p = at === 0 ? "\n" : text[at - 1];
    if (p === " " || p === "\t" || p === "\n" || p === "\r") return true;
    // `[`, `{` and `,` separate tokens only inside a flow collection: in `x[[` they are one plain scalar.
    return flow > 0 && (p === "[" || p === "{" || p === "," || p === ":");
  };
  while (i < n) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i += 2;
      else if (c === quote) {
        // '' inside a single-quoted scalar is an escaped quote.
        if (quote === "'" && text[i + 1] === "'") i += 2;
        else {
          quote = undefined;
          i++;
        }
      } else {
        if (c === "\n") atLineStart = true;
        i++;
      }
      continue;
    }
    if (atLineStart && flow === 0) {
      atLineStart = false;
      let col = 0;
      while (i < n && text[i] === " ") {
        i++;
        col++;
      }
      const first = text[i];
      if (first === "\n" || first === "\r" || first === "#" || first === undefined) continue;
      while (indents.length > 0 && (indents[indents.length - 1] ?? 0) >= col) indents.pop();
      indents.push(col);
      // Compact nesting on one line: `- - - x` or `? - x` opens a level per indicator.
      while ((text[i] === "-" || text[i] === "?") && (text[i + 1] === " " || text[i + 1] === "\t")) {
        i += 2;
        col += 2;
        while (i < n && text[i] === " ") {
          i++;
          col++;
        }
        indents.push(col);
        if (indents.length + flow > limit) return { limit, offset: i };
      }
      if (indents.length + flow > limit) return { limit, offset: i };
      continue;
    }
    if (c === "\n") {
      atLineStart = true;
      i++;
      continue;
    }
    if (c === "#" && tokenStart(i)) {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if ((c === '"' || c === "'") && tokenStart(i)) quote = c;
    else if ((c === "[" || c === "{") && tokenStart(i)) {
      flow++;
      if (indents.length + flow > limit) return { limit, offset: i };
    } else if ((c === "]" || c === "}") && flow > 0) flow--;
    i++;
  }
  return undefined;
}
