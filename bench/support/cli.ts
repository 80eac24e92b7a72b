// Command-line plumbing shared by the fan-out benchmarks.

/** A `--name` value that must be a positive integer; `fallback` when the flag is absent. */
export function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** A `--name` value that must be a whole number, 0 allowed. */
export function nonNegativeInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number (0 or more), got ${JSON.stringify(raw)}`);
  return n;
}

/** Runs a benchmark's main when the file is the entry point; an error prints its stack and sets exit code 1. */
export function runMain(meta: ImportMeta, main: () => Promise<void>): void {
  if (!meta.main) return;
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
