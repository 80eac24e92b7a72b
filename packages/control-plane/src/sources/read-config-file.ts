import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Diagnostic, ModelObject, SourceRef } from "../model/model-object.ts";
import { type ParseResult, parseDocumentSteps } from "../model/parse-documents.ts";
import { runSliced, runToEnd, type Steps } from "../model/time-slice.ts";
import { resolveFileReferences } from "./resolve-file-references.ts";

export interface ParsedConfig {
  /** The file, or undefined for text that came from stdin or an API body. */
  readonly file: string | undefined;
  /** False when the file does not exist (deleted, or mid-rename). */
  readonly exists: boolean;
  readonly objects: ModelObject[];
  readonly diagnostics: Diagnostic[];
  /** Where a field of an object was written, for diagnostics that come back from compile(). */
  readonly locate: (key: string, path?: string) => SourceRef | undefined;
}

export interface ParseConfigOptions {
  readonly file?: string;
  readonly baseDir: string;
  readonly readFiles?: boolean;
}

/** Parses a YAML/JSON text of objects and inlines the files they reference. Never throws on user input. */
export function parseConfigText(text: string, options: ParseConfigOptions): ParsedConfig {
  return runToEnd(parseConfigSteps(text, options));
}

/** parseConfigText, giving the event loop a turn between documents now and then (a large API body, issue 14). */
export function parseConfigTextSliced(text: string, options: ParseConfigOptions): Promise<ParsedConfig> {
  return runSliced(parseConfigSteps(text, options));
}

function* parseConfigSteps(text: string, options: ParseConfigOptions): Steps<ParsedConfig> {
  const parsed: ParseResult = yield* parseDocumentSteps(text, options.file === undefined ? {} : { file: options.file });
  const diagnostics = [...parsed.diagnostics];
  const objects: ModelObject[] = [];
  for (const o of parsed.objects) {
    yield;
    const r = resolveFileReferences(o, { baseDir: options.baseDir, ...(options.readFiles !== undefined ? { readFiles: options.readFiles } : {}) });
    for (const d of r.diagnostics) diagnostics.push(withSource(d, parsed.locate));
    objects.push(r.object);
  }
  return { file: options.file, exists: true, objects, diagnostics, locate: parsed.locate };
}

export function readConfigFile(file: string): ParsedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return unreadable(file, error);
  }
  return parseConfigText(text, { file, baseDir: dirname(file) });
}

/** readConfigFile, reading without blocking and parsing in slices: a large watched file saved while serving (issue 14). */
export async function readConfigFileSliced(file: string): Promise<ParsedConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return unreadable(file, error);
  }
  return parseConfigTextSliced(text, { file, baseDir: dirname(file) });
}

/** A file that is gone (deleted, or mid-rename) or cannot be read, as readConfigFile reports it. */
function unreadable(file: string, error: unknown): ParsedConfig {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") {
    return { file, exists: false, objects: [], diagnostics: [], locate: () => undefined };
  }
  const diagnostic: Diagnostic = {
    severity: "error",
    code: "file.unreadable",
    message: `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
    hint: "make the file readable by the control plane",
    source: { file },
  };
  return { file, exists: true, objects: [], diagnostics: [diagnostic], locate: () => undefined };
}

/** Fills in a diagnostic's file position from where its object and field were written. */
export function withSource(d: Diagnostic, locate: ParsedConfig["locate"]): Diagnostic {
  if (d.source !== undefined || d.object === undefined) return d;
  const source = locate(d.object, d.path);
  return source === undefined ? d : { ...d, source };
}
