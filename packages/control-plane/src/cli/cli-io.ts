import type { Diagnostic } from "../model/model-object.ts";
import { formatDiagnostic } from "../sources/format-diagnostic.ts";
import { withSource } from "../sources/read-config-file.ts";
import type { RevisionChange } from "../store/object-store.ts";
import type { Inputs } from "./read-inputs.ts";

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: () => Promise<string>;
  /** Stops long-running commands (status --watch); by default SIGINT. */
  readonly signal?: AbortSignal;
}

/** Prints each diagnostic once; returns how many errors were printed, so a summary counts what the user sees. */
export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[], inputs?: Inputs): number {
  const printed = new Set<string>();
  let errors = 0;
  for (const d of diagnostics) {
    let located = d;
    // Positions from the server refer to the JSON the CLI sent; the local files know the real ones.
    const { source: _remote, ...bare } = d;
    for (const p of inputs?.parsed ?? []) {
      const l = withSource(bare, p.locate);
      if (l !== bare) {
        located = l;
        break;
      }
    }
    const line = formatDiagnostic(located);
    if (printed.has(line)) continue;
    printed.add(line);
    if (located.severity === "error") errors++;
    io.err(`${line}\n`);
  }
  return errors;
}

/** Prints what reading the files found (parse diagnostics, empty inputs); returns the number of errors (0: go on). */
export function localErrors(io: CliIo, inputs: Inputs): number {
  return printDiagnostics(io, inputs.diagnostics, inputs);
}

/**
 * Ends the process quietly when the reader of its output goes away (`tcp status | head -1`):
 * like any Unix filter, the CLI stops writing, with no EPIPE stack trace, and exits with the
 * code it already had (0 unless set), since the reader has what it wanted (issue 8).
 * Other stream errors are left alone: they are real faults.
 */
export function stopOnClosedPipe(streams: readonly NodeJS.WriteStream[], exit: (code: number) => void): void {
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      const code = process.exitCode;
      exit(typeof code === "number" ? code : 0);
    });
  }
}

export function changesLine(changes: readonly RevisionChange[]): string {
  return changes.map((c) => `  ${c.action} ${c.key}`).join("\n");
}

