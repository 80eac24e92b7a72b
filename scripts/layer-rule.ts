// The one-way layer rule of docs/architecture.md, as a function of a
// source tree (scripts/check-layers.ts runs it on the repository; the test runs
// it on temporary trees):
// - every .ts file of a package's sources belongs to a layer: a folder under
//   src/, or a root file given its own place (index.ts, the package's public
//   face, sits on top); a file that belongs to none is a problem, so a new
//   folder or root file cannot slip past the rule;
// - a lower layer never imports a higher one;
// - the library never imports the control plane, and its shipped sources never
//   import its testing code (only its tests do);
// - everyone else (control plane, e2e, bench, examples) imports the library only
//   through its public entries, `@ts-control-plane/xds`,
//   `@ts-control-plane/xds/metrics` and `@ts-control-plane/xds/testing` (the
//   latter only from tests), never by an
//   internal path or a relative path into its folder.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** One package's sources and their layers. */
export interface LayeredSources {
  /** Folder, relative to the tree's root ("packages/xds/src"). */
  readonly dir: string;
  /** Lowest first: a folder name, or a root file name ("compile.ts"). */
  readonly layers: readonly string[];
}

export interface LayerRule {
  /** Folders whose every .ts file must belong to a layer. */
  readonly sources: readonly LayeredSources[];
  /** The library's package folder, and the entries others may import. */
  readonly library: { readonly packageDir: string; readonly srcDir: string; readonly testingDir: string; readonly name: string };
  /** The control plane's package name, which the library must never import. */
  readonly controlPlaneName: string;
  /** Folders besides sources whose imports of the library are checked too. */
  readonly consumers: readonly string[];
  /** Folders holding packages; every `<packagesDir>/<name>/src` must be listed in `sources`. */
  readonly packagesDir: string;
}

export const repositoryRule: LayerRule = {
  sources: [
    { dir: "packages/xds/src", layers: ["resource", "protocol", "validate", "cache", "server", "metrics", "index.ts"] },
    // Test helpers sit above the whole library: they may use any of it.
    { dir: "packages/xds/testing", layers: [""] },
    {
      dir: "packages/control-plane/src",
      // compile.ts: model to Envoy resources, for the reconciler and the CLI's
      // validate; main.ts: the server's composition root, which the CLI's
      // `serve` runs; index.ts: the package's public face. startup: the errors
      // `serve` explains (data directory in use, port in use), below the store
      // that takes the data directory's lock.
      // log: one event, one line (log/one-line.ts), used by every layer that logs.
      layers: ["log", "model", "graph", "envoy", "compile.ts", "startup", "store", "sources", "status", "reconciler", "rollout", "admin", "main.ts", "cli", "index.ts"],
    },
  ],
  library: { packageDir: "packages/xds", srcDir: "packages/xds/src", testingDir: "packages/xds/testing", name: "@ts-control-plane/xds" },
  controlPlaneName: "@ts-control-plane/control-plane",
  consumers: ["e2e", "bench", "examples"],
  packagesDir: "packages",
};

export interface LayerReport {
  /** How many .ts files were read. */
  readonly checked: number;
  /** One line per problem, naming the file. */
  readonly problems: readonly string[];
}

const importPattern = /(?:import|export)\s[^'"`;]*?from\s+["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names.sort()) {
    if (n === "node_modules" || n === "dist" || n === "gen") continue;
    const full = join(dir, n);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (n.endsWith(".ts") && !n.endsWith(".d.ts")) out.push(full);
  }
}

const inside = (dir: string, file: string): boolean => file === dir || file.startsWith(dir + "/");
const isTest = (file: string): boolean => /\.(test|bench)\.ts$/.test(file);

/** Checks the tree at `root` against `rule`. */
export function checkLayerRule(root: string, rule: LayerRule = repositoryRule): LayerReport {
  const problems: string[] = [];
  const rel = (abs: string): string => relative(root, abs).split(sep).join("/");

  // Every package's src/ must be described, or its files would be checked by nothing.
  for (const pkg of safeList(join(root, rule.packagesDir))) {
    const src = `${rule.packagesDir}/${pkg}/src`;
    if (isDirectory(join(root, src)) && !rule.sources.some((s) => s.dir === src)) problems.push(`${src}: a package's sources with no layers (add it to scripts/layer-rule.ts)`);
  }

  const files: string[] = [];
  for (const s of rule.sources) walk(join(root, s.dir), files);
  for (const c of rule.consumers) walk(join(root, c), files);

  for (const abs of files) {
    const file = rel(abs);
    const unit = rule.sources.find((s) => inside(s.dir, file));
    const layer = unit ? layerIndex(unit, file) : -1;
    if (unit) {
      if (layer < 0) {
        problems.push(`${file}: belongs to no layer of ${unit.dir} (layers: ${unit.layers.join(", ")}); put it in one or give it a place in scripts/layer-rule.ts`);
      }
    }
    const inLibrary = inside(rule.library.packageDir, file);
    for (const spec of importsOf(readFileSync(abs, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = rel(resolve(dirname(abs), spec));
        if (inLibrary) {
          if (inside(rule.library.srcDir, file) && !isTest(file) && inside(rule.library.testingDir, target)) {
            problems.push(`${file}: the library's sources must not import its testing code (${spec}); only tests may`);
          }
        } else if (inside(rule.library.packageDir, target)) {
          problems.push(`${file}: imports the library by relative path (${spec}); use ${rule.library.name} or ${rule.library.name}/testing`);
          continue;
        }
        const pkgOf = (f: string) => (f.startsWith(`${rule.packagesDir}/`) ? f.split("/").slice(0, 2).join("/") : undefined);
        if (pkgOf(file) !== undefined && pkgOf(target) !== pkgOf(file)) {
          problems.push(`${file}: a relative import leaves its package (${spec}); import the other package by name`);
          continue;
        }
        if (unit && layer >= 0 && inside(unit.dir, target)) {
          const theirs = layerIndex(unit, target);
          if (theirs > layer) problems.push(`${file}: layer '${unit.layers[layer]}' must not import higher layer '${unit.layers[theirs]}' (${spec})`);
        }
        continue;
      }
      if (inLibrary) {
        if (spec === rule.controlPlaneName || spec.startsWith(`${rule.controlPlaneName}/`)) problems.push(`${file}: the library must not import the control plane (${spec})`);
        continue;
      }
      if (spec === rule.library.name) continue;
      // The prom-client adapter (`./metrics`) is a public entry for everyone.
      if (spec === `${rule.library.name}/metrics`) continue;
      if (spec === `${rule.library.name}/testing`) {
        // Tests, and the e2e/bench/example trees, may use the test helpers; shipped code may not.
        const testCode = isTest(file) || !inside(rule.packagesDir, file);
        if (!testCode) problems.push(`${file}: only tests may import ${spec}`);
        continue;
      }
      if (spec.startsWith(`${rule.library.name}/`)) problems.push(`${file}: imports a library internal (${spec}); use ${rule.library.name} or ${rule.library.name}/testing`);
    }
  }
  return { checked: files.length, problems };
}

/**
 * The layer of a file inside `unit`: its first folder, or its own name for a
 * root file; -1 for none. A root test belongs with the root file it tests:
 * `compile.test.ts` and `compile-diagnostics.test.ts` with `compile.ts`.
 */
function layerIndex(unit: LayeredSources, file: string): number {
  if (unit.layers.length === 1 && unit.layers[0] === "") return 0;
  const parts = file.slice(unit.dir.length + 1).split("/");
  const top = parts[0] ?? "";
  if (parts.length === 1 && isTest(top)) {
    const subject = top.replace(/\.(test|bench)\.ts$/, "");
    return unit.layers.findIndex((l) => l.endsWith(".ts") && (subject === l.slice(0, -3) || subject.startsWith(`${l.slice(0, -3)}-`)));
  }
  return unit.layers.indexOf(top);
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
