// The repository documents itself: no tracked file may send a reader to a file
// outside it (issue 12, "docs that stand alone"). As a function of a tree and
// its tracked files (scripts/check-repo-paths.ts runs it on the repository;
// the test runs it on temporary trees). What it reads: every line of a
// Markdown file, and the comments of code and config files (.ts, .js, .mjs,
// .go, .sh, .yaml): code itself is left alone, since tests and scripts may
// legitimately build paths such as tmpdir() or resolve "../.." to the root.
// In that text it refuses:
// - an absolute path of a machine, under work, root, home or Users at the
//   filesystem root (a build machine's layout means nothing to a reader; tmp
//   is allowed: walkthroughs tell the reader to write scratch files there);
// - a relative path that climbs out of the repository root (from the root,
//   a link to a sibling folder such as shared/design);
// - a cited Markdown file (a name ending in .md, relative to the citing file
//   or to the root) that is not a tracked file, e.g. a design note kept
//   outside the repository;
// - a Markdown file followed by the section sign and a section, where that
//   file has no heading the cited text starts with (case-insensitive), so
//   comments and docs keep citing sections that exist; likewise a link to a
//   Markdown file's anchor (or to an anchor of the same page) that is no
//   heading's.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** One reference that leaves the repository, with where it is and how to fix it. */
export interface PathProblem {
  /** Relative to the root, with / separators. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly message: string;
  readonly fix: string;
}

export interface PathReport {
  /** Tracked files read (Markdown plus code files with comments). */
  readonly files: number;
  readonly markdownFiles: number;
  /** Lines read: all Markdown lines and every comment line. */
  readonly lines: number;
  /** Citations of `*.md` files that resolved to a tracked file. */
  readonly citations: number;
  /** `§ Section` citations that matched a heading. */
  readonly sections: number;
  readonly problems: readonly PathProblem[];
}

const codeExtensions = new Set(["ts", "mts", "js", "mjs", "go", "sh", "yaml", "yml"]);
const hashComments = new Set(["sh", "yaml", "yml"]);
const machinePath = /(?<![\w.~-])\/(?:work|root|home|Users)\/[^\s)`'"\]]*/g;
const climbingPath = /(?<![\w./-])(?:\.\.\/)+[\w.\-/]*/g;
const mdCitation = /(?<![\w./@-])((?:\.{1,2}\/)*[\w-][\w.\-/]*\.md)(?![\w-])/g;
const url = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

function extensionOf(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot + 1).toLowerCase();
}

/**
 * The comment text of one line of code, or undefined when the line has none.
 * A line that starts a comment counts whole; otherwise the text after a
 * trailing `// ` (or ` # ` in shell and YAML). Strings that happen to hold
 * `//` are not comments: a URL's `://` is skipped, and a trailing comment
 * needs a space after the marker, as the code style writes them.
 */
export function commentText(line: string, ext: string): string | undefined {
  const t = line.trim();
  if (hashComments.has(ext)) {
    if (t.startsWith("#")) return t;
    const at = line.indexOf(" # ");
    return at < 0 ? undefined : line.slice(at + 3);
  }
  if (t.startsWith("//") || t.startsWith("/*") || t.startsWith("*")) return t;
  const m = /(?:^|[^:"'`\\])\/\/ (.*)$/.exec(line);
  return m?.[1];
}

/** Headings of a Markdown text, outside fenced code blocks. */
export function headingsOf(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.trimStart().startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (m?.[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The anchor a heading gets on GitHub: lower case, punctuation dropped, spaces to hyphens. */
export function slugOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

function startsWithHeading(cited: string, heading: string): boolean {
  const c = cited.toLowerCase();
  const h = heading.toLowerCase();
  return c.startsWith(h) && !/[\p{L}\p{N}]/u.test(c.charAt(h.length));
}

/** Checks the tracked files under `root` (paths relative to it, / separators). */
export function checkRepoPaths(root: string, trackedFiles: readonly string[]): PathReport {
  const tracked = new Set(trackedFiles);
  const absRoot = resolve(root);
  const problems: PathProblem[] = [];
  const headings = new Map<string, string[]>();
  let files = 0;
  let markdownFiles = 0;
  let lines = 0;
  let citations = 0;
  let sections = 0;

  const toRepoPath = (abs: string): string | undefined => {
    const rel = relative(absRoot, abs);
    return rel.startsWith("..") || rel === "" ? undefined : rel.split(sep).join("/");
  };
  const headingsFor = (file: string): string[] => {
    let h = headings.get(file);
    if (h === undefined) {
      h = headingsOf(readFileSync(join(absRoot, file), "utf8"));
      headings.set(file, h);
    }
    return h;
  };

  const checkAnchor = (at: { file: string; line: number }, target: string, anchor: string): void => {
    const known = headingsFor(target);
    if (known.some((h) => slugOf(h) === anchor.toLowerCase())) return;
    problems.push({
      ...at,
      message: `links ${target}#${anchor}, which is no heading of ${target}`,
      fix: `link one of its headings: ${known.map((h) => `#${slugOf(h)}`).join(", ")}`,
    });
  };

  for (const file of trackedFiles) {
    const ext = extensionOf(file);
    const markdown = ext === "md";
    if (!markdown && !codeExtensions.has(ext)) continue;
    const dir = dirname(join(absRoot, file));
    const rawLines = readFileSync(join(absRoot, file), "utf8").split("\n");
    const texts = rawLines.map((l) => (markdown ? l : commentText(l, ext)));
    if (!texts.some((t) => t !== undefined)) continue;
    files++;
    if (markdown) markdownFiles++;
    texts.forEach((raw, i) => {
      if (raw === undefined) return;
      lines++;
      const text = raw.replace(url, (u) => " ".repeat(u.length));
      const at = { file, line: i + 1 };
      for (const m of text.matchAll(machinePath)) {
        problems.push({
          ...at,
          message: `absolute path of a machine: ${m[0]}`,
          fix: "write the path relative to the repository root (e.g. docs/scenarios.md), or drop it",
        });
      }
      for (const m of text.matchAll(climbingPath)) {
        const target = m[0].replace(/[.,;:]+$/, "");
        if (toRepoPath(resolve(dir, target)) === undefined && resolve(dir, target) !== absRoot) {
          problems.push({
            ...at,
            message: `${target} points outside the repository`,
            fix: "link or cite the page under docs/ that covers it (docs/xds-protocol.md, docs/architecture.md, docs/scenarios.md), or a path inside the repository",
          });
        }
      }
      if (markdown) for (const m of text.matchAll(/\]\(#([^\s)]+)\)/g)) checkAnchor(at, file, m[1] ?? "");
      for (const m of text.matchAll(mdCitation)) {
        const cited = m[1] ?? "";
        if (cited.startsWith("../") && toRepoPath(resolve(dir, cited)) === undefined) continue; // reported above
        const target = [resolve(dir, cited), resolve(absRoot, cited)].map(toRepoPath).find((p) => p !== undefined && tracked.has(p));
        if (target === undefined) {
          problems.push({
            ...at,
            message: `cites ${cited}, which is not a file of this repository`,
            fix: "cite the tracked file by its path from the repository root (docs/xds-protocol.md, docs/architecture.md, docs/scenarios.md), or write what it says here",
          });
          continue;
        }
        citations++;
        const after = text.slice((m.index ?? 0) + m[0].length);
        const anchor = /^#([^\s)\]]+)/.exec(after)?.[1];
        if (anchor !== undefined && extensionOf(target) === "md") checkAnchor(at, target, anchor);
        const section = /^\s*§\s*(.*)$/.exec(after);
        if (section === null) continue;
        // A citation may wrap: "§ Stream" at the end of a line, "state" on the next.
        const next = texts[i + 1]?.replace(/^\s*(?:\/\/|\*|#|>)?\s*/, "") ?? "";
        const cite = `${section[1] ?? ""} ${next}`.trim();
        const known = headingsFor(target);
        if (known.some((h) => startsWithHeading(cite, h))) sections++;
        else {
          problems.push({
            ...at,
            message: `cites ${target} § ${(section[1] ?? "").trim() || next.trim()}, which is no heading of ${target}`,
            fix: `name one of its headings: ${known.map((h) => `"${h}"`).join(", ")}`,
          });
        }
      }
    });
  }
  return { files, markdownFiles, lines, citations, sections, problems };
}
