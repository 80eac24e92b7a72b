/**
 * Translates an RE2 pattern (the syntax of PGV's `pattern` rules, which Envoy
 * checks with RE2) into an equivalent JavaScript RegExp with the `u` flag.
 *
 * The differences that matter, and why each is handled:
 * - `(?i)`, `(?s)`, `(?m)` flag groups: JS has no mid-pattern flag switch, so the
 *   rest of the enclosing group becomes a `(?i:...)` modifier group (V8 supports
 *   them since Node 23; before, a leading `(?i)` becomes the `i` flag and any
 *   other case change throws), re-opened after each `|` so alternation keeps
 *   its shape.
 * - `.` excludes only `\n` in RE2 but also `\r`, U+2028, U+2029 in JS: it is
 *   spelled out as `[^\n]` (or `[\s\S]` under `s`).
 * - `\s` is `[\t\n\f\r ]` in RE2 (JS adds \v and Unicode spaces).
 * - `\A`, `\z`: start and end of text, even under `m`.
 * - `\Q...\E` quoting, `(?P<name>...)`, `\x{10FFFF}`, `\pL`, `\p{Greek}`, POSIX
 *   classes `[[:alpha:]]`, and escaped punctuation (`\-`, `\:`), which the `u`
 *   flag would reject.
 * - A `{` that does not start a repetition is a literal in RE2, a syntax error
 *   under `u`.
 * Things RE2 itself rejects (lookaround, backreferences) throw a
 * Re2SyntaxError, as do the few RE2 features with no JS equivalent (`(?U)`, `\C`).
 */
export class Re2SyntaxError extends Error {
  /** Always "Re2SyntaxError". */
  override readonly name = "Re2SyntaxError";
}

/** Options of {@link re2RegExp}. */
export interface Re2Options {
  /** Anchor at both ends, as RE2::FullMatch does (Envoy's PGV validator uses it). */
  readonly fullMatch?: boolean;
}

const SPACE = "\\t\\n\\f\\r ";
const POSIX: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7f",
  blank: "\\t ",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`\\{-~",
  space: SPACE + "\\v",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};
const SYNTAX = new Set("^$\\.*+?()[]{}|/");

const hex = (cp: number): string => `\\u{${cp.toString(16)}}`;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

interface Group {
  /** Modifier groups opened by a bare `(?i)` inside this group, closed with it. */
  pending: string[];
  flags: Flags;
}

class Translator {
  private readonly src: string;
  private pos = 0;
  private out = "";
  private readonly stack: Group[];

  constructor(src: string, flags: Flags) {
    this.src = src;
    this.stack = [{ pending: [], flags }];
  }

  private get top(): Group {
    return this.stack[this.stack.length - 1]!;
  }

  run(): string {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === "\\") this.escape();
      else if (c === "[") this.charClass();
      else if (c === "(") this.openGroup();
      else if (c === ")") this.closeGroup();
      else if (c === "|") {
        const pending = this.top.pending;
        this.out += ")".repeat(pending.length) + "|" + pending.join("");
        this.pos++;
      } else if (c === ".") {
        this.out += this.top.flags.s ? "[\\s\\S]" : "[^\\n]";
        this.pos++;
      } else if (c === "{") this.brace();
      else if (c === "}" || c === "]") {
        this.out += "\\" + c;
        this.pos++;
      } else if ((c === "^" || c === "$") && this.top.flags.m) {
        // RE2 multi-line anchors see only \n as a line break.
        this.out += c === "^" ? "(?<=^|\\n)" : "(?=$|\\n)";
        this.pos++;
      } else {
        // Without the JS m flag, ^ and $ are start and end of text, as in RE2.
        this.out += c;
        this.pos++;
      }
    }
    if (this.stack.length !== 1) throw new Re2SyntaxError("missing closing )");
    this.out += ")".repeat(this.top.pending.length);
    return this.out;
  }

  private brace(): void {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (m === null) {
      this.out += "\\{";
      this.pos++;
      return;
    }
    if (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== "" && Number(m[3]) > 1000)) {
      throw new Re2SyntaxError("bad repetition operator: counts above 1000");
    }
    this.out += m[0];
    this.pos += m[0].length;
  }

  private openGroup(): void {
    const rest = this.src.slice(this.pos);
    const flagGroup = /^\(\?([imsU-]*)(:|\))/.exec(rest);
    if (flagGroup !== null && flagGroup[1] !== "") {
      const flags = applyFlags(this.top.flags, flagGroup[1]!);
      const modifier = jsModifier(flagGroup[1]!);
      this.pos += flagGroup[0].length;
      if (flagGroup[2] === ")") {
        // A bare flag group changes flags until the enclosing group ends.
        this.top.flags = flags;
        if (modifier !== "") {
          this.out += `(?${modifier}:`;
          this.top.pending.push(`(?${modifier}:`);
        }
      } else {
        this.out += modifier === "" ? "(?:" : `(?${modifier}:`;
        this.stack.push({ pending: [], flags });
      }
      return;
    }
    if (rest.startsWith("(?P<") || rest.startsWith("(?<")) {
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named === null) throw new Re2SyntaxError(`invalid named capture group at ${this.pos}`);
      this.out += `(?<${named[1]}>`;
      this.pos += named[0].length;
    } else if (rest.startsWith("(?:")) {
      this.out += "(?:";
      this.pos += 3;
    } else if (rest.startsWith("(?")) {
      throw new Re2SyntaxError(`RE2 does not support this group syntax at ${this.pos}: ${rest.slice(0, 4)}`);
    } else {
      this.out += "(";
      this.pos++;
    }
    this.stack.push({ pending: [], flags: { ...this.top.flags } });
  }

  private closeGroup(): void {
    if (this.stack.length === 1) throw new Re2SyntaxError("unexpected )");
    const g = this.stack.pop()!;
    this.out += ")".repeat(g.pending.length) + ")";
    this.pos++;
  }

  /** An escape outside a class. */
  private escape(): void {
    const s = this.src;
    const c = s[this.pos + 1];
    if (c === undefined) throw new Re2SyntaxError("trailing \\");
    if (c === "Q") {
      const end = s.indexOf("\\E", this.pos + 2);
      const lit = s.slice(this.pos + 2, end < 0 ? s.length : end);
      for (const ch of lit) this.out += SYNTAX.has(ch) ? "\\" + ch : /[\w\s]/.test(ch) ? ch : hex(ch.codePointAt(0)!);
      this.pos = end < 0 ? s.length : end + 2;
      return;
    }
    if (c === "A") {
      this.out += "(?<![\\s\\S])";
      this.pos += 2;
      return;
    }
    if (c === "z") {
      this.out += "(?![\\s\\S])";
      this.pos += 2;
      return;
    }
    if (c === "s") {
      this.out += `[${SPACE}]`;
      this.pos += 2;
      return;
    }
    if (c === "S") {
      this.out += `[^${SPACE}]`;
      this.pos += 2;
      return;
    }
    if (c === "b" || c === "B") {
      this.out += "\\" + c;
      this.pos += 2;
      return;
    }
    this.out += this.escapeAtom(true);
  }

  /** Escapes valid both inside and outside a class; advances past them. */
  private escapeAtom(outside: boolean): string {
    const s = this.src;
    const c = s[this.pos + 1]!;
    if (c === "d" || c === "D" || c === "w" || c === "W") {
      this.pos += 2;
      return "\\" + c;
    }
    if (c === "n" || c === "t" || c === "r" || c === "f" || c === "v") {
      this.pos += 2;
      return "\\" + c;
    }
    if (c === "a") {
      this.pos += 2;
      return "\\x07";
    }
    if (c === "x") {
      const braced = /^\\x\{([0-9A-Fa-f]{1,6})\}/.exec(s.slice(this.pos));
      const plain = /^\\x([0-9A-Fa-f]{2})/.exec(s.slice(this.pos));
      const m = braced ?? plain;
      if (m === null) throw new Re2SyntaxError(`invalid escape at ${this.pos}`);
      this.pos += m[0].length;
      return hex(Number.parseInt(m[1]!, 16));
    }
    if (c >= "0" && c <= "7") {
      // RE2 reads \0, \00, \012 and \1-\7 followed by more digits as octal; a lone \1 would be a backreference.
      const m = /^\\([0-7]{1,3})/.exec(s.slice(this.pos))!;
      if (c !== "0" && m[1]!.length === 1) throw new Re2SyntaxError("RE2 does not support backreferences");
      this.pos += m[0].length;
      return hex(Number.parseInt(m[1]!, 8));
    }
    if (c === "p" || c === "P") {
      const m = /^\\[pP](\{\^?([A-Za-z_]+)\}|([A-Za-z]))/.exec(s.slice(this.pos));
      if (m === null) throw new Re2SyntaxError(`invalid Unicode class at ${this.pos}`);
      this.pos += m[0].length;
      const name = m[2] ?? m[3]!;
      const negated = (c === "P") !== m[1]!.startsWith("{^");
      if (name === "Any") {
        if (negated) throw new Re2SyntaxError("\\P{Any} matches nothing");
        return outside ? "[\\s\\S]" : "\\s\\S";
      }
      const prop = name.length <= 2 ? name : `Script=${name}`;
      return `\\${negated ? "P" : "p"}{${prop}}`;
    }
    if (/[A-Za-z0-9]/.test(c)) throw new Re2SyntaxError(`RE2 does not support \\${c}`);
    this.pos += 2;
    if (SYNTAX.has(c) || (!outside && c === "-")) return "\\" + c;
    return hex(c.codePointAt(0)!);
  }

  private charClass(): void {
    const s = this.src;
    let out = "[";
    this.pos++;
    if (s[this.pos] === "^") {
      out += "^";
      this.pos++;
    }
    let first = true;
    while (true) {
      const c = s[this.pos];
      if (c === undefined) throw new Re2SyntaxError("missing closing ]");
      if (c === "]" && !first) break;
      first = false;
      if (c === "[" && s[this.pos + 1] === ":") {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(s.slice(this.pos));
        const set = m === null ? undefined : POSIX[m[2]!];
        if (m !== null && set !== undefined) {
          if (m[1] === "^") throw new Re2SyntaxError("negated POSIX classes inside a class are not supported");
          out += set;
          this.pos += m[0].length;
          continue;
        }
      }
      if (c === "\\") {
        const n = s[this.pos + 1];
        if (n === "s") {
          out += SPACE;
          this.pos += 2;
          continue;
        }
        if (n === "S") throw new Re2SyntaxError("\\S inside a class is not supported");
        out += this.escapeAtom(false);
        continue;
      }
      if (c === "]" || c === "[" || c === "/" || c === "{" || c === "}" || c === "(" || c === ")" || c === "|") {
        out += "\\" + c;
      } else {
        out += c;
      }
      this.pos++;
    }
    this.pos++;
    this.out += out + "]";
  }
}

function applyFlags(base: Flags, spec: string): Flags {
  const flags = { ...base };
  let on = true;
  for (const f of spec) {
    if (f === "-") on = false;
    else if (f === "U") throw new Re2SyntaxError("the (?U) ungreedy flag has no JavaScript equivalent");
    else flags[f as keyof Flags] = on;
  }
  return flags;
}

/** The JS modifier for a flag spec; only `i` needs one, `s` and `m` are translated by hand. */
function jsModifier(spec: string): string {
  const minus = spec.indexOf("-");
  const on = minus < 0 ? spec : spec.slice(0, minus);
  const off = minus < 0 ? "" : spec.slice(minus + 1);
  if (on.includes("i")) return "i";
  if (off.includes("i")) return "-i";
  return "";
}

/**
 * Whether this runtime's RegExp has modifier groups (`(?i:...)`): V8 ships them
 * from Node 23, and the library supports Node 20.
 */
export const regExpModifierGroups = ((): boolean => {
  try {
    // biome-ignore lint/complexity/useRegexLiterals: a literal would be a parse error on Node 20, failing the whole module
    new RegExp("(?i:a)", "u");
    return true;
  } catch {
    return false;
  }
})();

/**
 * Compiles an RE2 pattern into an equivalent JavaScript RegExp (`u` flag).
 *
 * @param pattern - An RE2 pattern, as in PGV `pattern` rules and Envoy's `safe_regex`.
 * @param options - `fullMatch` anchors at both ends, as RE2::FullMatch does.
 * @returns The translated RegExp.
 * @throws Re2SyntaxError when RE2 rejects the pattern or it has no JavaScript
 *   equivalent; also, on a runtime without RegExp modifier groups (before
 *   Node 23), for a case change inside the pattern (`a(?i)b`, `(?i:a)b`)
 *   rather than matching differently from Envoy. A leading `(?i)` works on
 *   every runtime.
 */
export function re2RegExp(pattern: string, options: Re2Options = {}): RegExp {
  let body = new Translator(pattern, { i: false, m: false, s: false }).run();
  let jsFlags = "u";
  if (!regExpModifierGroups && /\(\?-?i:/.test(body)) {
    // Without modifier groups, a pattern that is case-insensitive as a whole
    // (a leading `(?i)`, the usual case) still translates: the flag becomes
    // the RegExp's own `i`. Only a case change inside the pattern cannot.
    const lead = /^\(\?([ims]*i[ims]*)\)/.exec(pattern);
    const rest = lead ? new Translator(pattern.slice(lead[0].length), { i: true, m: lead[1]!.includes("m"), s: lead[1]!.includes("s") }).run() : undefined;
    if (rest === undefined || /\(\?-?i:/.test(rest)) {
      throw new Re2SyntaxError(`cannot translate ${JSON.stringify(pattern)}: a case change inside a pattern needs RegExp modifier groups (Node 23 or later)`);
    }
    body = rest;
    jsFlags = "iu";
  }
  const source = options.fullMatch ? `(?<![\\s\\S])(?:${body})(?![\\s\\S])` : body;
  try {
    return new RegExp(source, jsFlags);
  } catch (e) {
    throw new Re2SyntaxError(`cannot translate ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}
