// Enforces that the repository's docs and comments stand alone (scripts/repo-paths.ts
// says what is checked and why) on the files git tracks; scripts/check.sh runs it.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { checkRepoPaths } from "./repo-paths.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter((f) => f !== "");
const r = checkRepoPaths(root, tracked);
const what = `${r.files} tracked files (${r.markdownFiles} Markdown, the rest by their comments), ${r.lines} lines, ${r.citations} citations of repository files, ${r.sections} § sections`;
if (r.problems.length > 0) {
  for (const p of r.problems) console.error(`${p.file}:${p.line}: ${p.message}\n  fix: ${p.fix}`);
  console.error(`repo paths: ${r.problems.length} reference(s) outside the repository in ${what}`);
  process.exit(1);
}
console.log(`repo paths ok: no link or citation leaves the repository (${what})`);
