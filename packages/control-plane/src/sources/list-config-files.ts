import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const configFile = /\.(ya?ml|json)$/;

export function isConfigFile(name: string): boolean {
  // Editors' swap and backup files ("x.yaml.swp", ".#x.yaml", "x.yaml~") are not config.
  const base = name.split("/").pop() ?? name;
  return configFile.test(base) && !base.startsWith(".");
}

/** The config files a `--config` path stands for: the file itself, or every YAML/JSON file under a directory. */
export function listConfigFiles(path: string): string[] {
  const full = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(full).isDirectory();
  } catch {
    return [full];
  }
  if (!isDir) return [full];
  return readdirSync(full, { recursive: true, encoding: "utf8" })
    .filter((name) => isConfigFile(name))
    .map((name) => join(full, name))
    .filter((file) => {
      try {
        return statSync(file).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}
