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

export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[], inputs?: Inputs): void {
  const printed = new Set<string>();
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
    io.err(`${line}\n`);
  }
}

export function localErrors(io: CliIo, inputs: Inputs): boolean {
  const diagnostics = inputs.parsed.flatMap((p) => p.diagnostics);
  printDiagnostics(io, diagnostics, inputs);
  return diagnostics.some((d) => d.severity === "error");
}

export function changesLine(changes: readonly RevisionChange[]): string {
  return changes.map((c) => `  ${c.action} ${c.key}`).join("\n");
}

