// Lists the Envoy v3 .proto files that compile from the pinned proto tree.
//
// The tree bundled in @grpc/grpc-js-xds (Envoy API of mid-2024) ships only part of
// Envoy's third-party imports: files that import opencensus, opentelemetry or
// prometheus protos (a handful of tracers and stat sinks) cannot compile, and the
// v2/v2alpha folders import files that are absent. We keep every v3 file whose
// transitive imports all resolve, and print the rest on stderr so nothing is
// dropped silently.
import { readdirSync, readFileSync, existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const rootArg = process.argv[2];
if (!rootArg) throw new Error("usage: select-protos.ts <staging-root>");
const root: string = rootArg;

const builtins = new Set(["google/protobuf/"]);
const isWkt = (p: string): boolean => [...builtins].some((b) => p.startsWith(b));

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith(".proto")) out.push(relative(root, full));
  }
}

const importCache = new Map<string, string[]>();
function importsOf(file: string): string[] {
  let hit = importCache.get(file);
  if (hit) return hit;
  const text = readFileSync(join(root, file), "utf8");
  hit = [...text.matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm)].map((m) => m[1] ?? "");
  importCache.set(file, hit);
  return hit;
}

const verdict = new Map<string, string | null>();
function missingImport(file: string, stack: Set<string>): string | null {
  if (verdict.has(file)) return verdict.get(file) ?? null;
  if (stack.has(file)) return null;
  stack.add(file);
  let missing: string | null = null;
  for (const imp of importsOf(file)) {
    if (isWkt(imp)) continue;
    if (!existsSync(join(root, imp))) { missing = imp; break; }
    const sub = missingImport(imp, stack);
    if (sub) { missing = sub; break; }
  }
  stack.delete(file);
  verdict.set(file, missing);
  return missing;
}

const all: string[] = [];
walk(join(root, "envoy"), all);
const v3 = all.filter((f) => /\/v3(alpha)?\//.test(f)).sort();
const keep: string[] = [];
for (const f of v3) {
  const miss = missingImport(f, new Set());
  if (miss) process.stderr.write(`skip ${f} (imports missing ${miss})\n`);
  else keep.push(f);
}
process.stdout.write(keep.join("\n") + "\n");
