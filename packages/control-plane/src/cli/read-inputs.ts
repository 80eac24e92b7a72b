import { statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../main.ts";
import type { Diagnostic, ModelObject } from "../model/model-object.ts";
import { listConfigFiles } from "../sources/list-config-files.ts";
import { type ParsedConfig, parseConfigText, readConfigFile } from "../sources/read-config-file.ts";

export interface Inputs {
  readonly parsed: readonly ParsedConfig[];
  readonly objects: readonly ModelObject[];
  /** Every file's parse diagnostics, then those about the input as a whole (nothing to read). */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Reads `-f` arguments: files, directories (every YAML/JSON file inside) or `-`
 * (stdin). Certificate and key files are read here, on the operator's machine,
 * relative to the YAML that names them, and sent inline.
 */
export async function readInputs(files: readonly string[], stdin: () => Promise<string>): Promise<Inputs> {
  if (files.length === 0) throw new UsageError("say what to read: -f FILE, -f DIR or -f - (stdin)");
  const parsed: ParsedConfig[] = [];
  const diagnostics: Diagnostic[] = [];
  // An input with no objects is an error, never "unchanged" (issue 12): a file named on the command
  // line (or stdin) that holds none is an error; inside a directory, an empty file is a warning (a
  // placeholder is common, kubectl skips them too) and only a directory with no objects at all is an error.
  const read = (p: ParsedConfig, named: string): void => {
    parsed.push(p);
    diagnostics.push(...p.diagnostics);
    if (p.objects.length > 0 || p.diagnostics.some((d) => d.severity === "error")) return;
    const isNamed = named === "-" || resolve(named) === p.file;
    diagnostics.push(emptyInput(isNamed ? "error" : "warning", isNamed ? "no objects in this file" : "no objects in this file; it is skipped", p.file ?? "<stdin>"));
  };
  for (const f of files) {
    if (f === "-") {
      read(parseConfigText(await stdin(), { file: "<stdin>", baseDir: process.cwd() }), f);
      continue;
    }
    try {
      statSync(f);
    } catch {
      throw new UsageError(`${f} does not exist`);
    }
    const list = listConfigFiles(f);
    if (list.length === 0) {
      diagnostics.push(emptyInput("error", `${f} holds no .yaml, .yml or .json files`, undefined, "put the objects in files whose names end in .yaml, .yml or .json"));
    }
    for (const file of list) read(readConfigFile(file), f);
  }
  const objects = parsed.flatMap((p) => p.objects);
  if (objects.length === 0 && !diagnostics.some((d) => d.severity === "error")) {
    diagnostics.push(emptyInput("error", `no objects in ${files.join(", ")}`, undefined));
  }
  return { parsed, objects, diagnostics };
}

function emptyInput(severity: Diagnostic["severity"], message: string, file: string | undefined, hint?: string): Diagnostic {
  return {
    severity,
    code: "input.empty",
    message,
    hint: hint ?? "write at least one object (apiVersion, kind, metadata, spec); check that the file was saved and that its content is not commented out",
    ...(file === undefined ? {} : { source: { file } }),
  };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
