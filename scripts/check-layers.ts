// Enforces the one-way layer rule of shared/design/architecture.md:
// a lower layer never imports a higher one, and the library never imports the
// control plane. Layers are folders under each package's src/.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

const layers: Record<string, string[]> = {
  // lowest first
  "packages/xds/src": ["resource", "protocol", "validate", "cache", "server"],
  "packages/control-plane/src": ["model", "graph", "envoy", "store", "sources", "status", "reconciler", "admin", "cli"],
};
const libraryRoot = "packages/xds/src";

function walk(dir: string, out: string[]): void {
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    const full = join(dir, n);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (n.endsWith(".ts")) out.push(full);
  }
}

function layerOf(file: string): { pkg: string; index: number } | undefined {
  for (const [pkg, order] of Object.entries(layers)) {
    const rel = relative(pkg, file);
    if (rel.startsWith("..")) continue;
    const top = rel.split("/")[0] ?? "";
    const index = order.indexOf(top);
    return { pkg, index };
  }
  return undefined;
}

const problems: string[] = [];
for (const pkg of Object.keys(layers)) {
  const files: string[] = [];
  walk(pkg, files);
  for (const file of files) {
    const me = layerOf(file);
    if (!me) continue;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? "";
      if (pkg === libraryRoot && spec.startsWith("@ts-control-plane/control-plane")) {
        problems.push(`${file}: the library must not import the control plane (${spec})`);
      }
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      const them = layerOf(relative(process.cwd(), target));
      if (!them || them.pkg !== me.pkg) continue;
      if (me.index >= 0 && them.index > me.index) {
        const order = layers[me.pkg] ?? [];
        problems.push(`${file}: layer '${order[me.index]}' must not import higher layer '${order[them.index]}' (${spec})`);
      }
    }
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log("layers ok");
