import { statSync } from "node:fs";
import type { ModelObject } from "../model/model-object.ts";
import { listConfigFiles } from "../sources/list-config-files.ts";
import { type ParsedConfig, parseConfigText, readConfigFile } from "../sources/read-config-file.ts";
import { UsageError } from "../main.ts";

export interface Inputs {
  readonly parsed: readonly ParsedConfig[];
  readonly objects: readonly ModelObject[];
}

/**
 * Reads `-f` arguments: files, directories (every YAML/JSON file inside) or `-`
 * (stdin). Certificate and key files are read here, on the operator's machine,
 * relative to the YAML that names them, and sent inline.
 */
export async function readInputs(files: readonly string[], stdin: () => Promise<string>): Promise<Inputs> {
  if (files.length === 0) throw new UsageError("say what to read: -f FILE, -f DIR or -f - (stdin)");
  const parsed: ParsedConfig[] = [];
  for (const f of files) {
    if (f === "-") {
      parsed.push(parseConfigText(await stdin(), { file: "<stdin>", baseDir: process.cwd() }));
      continue;
    }
    try {
      statSync(f);
    } catch {
      throw new UsageError(`${f} does not exist`);
    }
    for (const file of listConfigFiles(f)) parsed.push(readConfigFile(file));
  }
  return { parsed, objects: parsed.flatMap((p) => p.objects) };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
