import { UsageError } from "../main.ts";

export interface CliArgs {
  readonly command: string | undefined;
  readonly positionals: readonly string[];
  /** Repeatable flags keep every value, in order. */
  readonly flags: ReadonlyMap<string, readonly string[]>;
  /** Everything after the command, untouched (for `serve`, which parses its own flags). */
  readonly rest: readonly string[];
}

/** Flags that take a value, with their short aliases. */
const valueFlags: ReadonlyMap<string, string> = new Map([
  ["-f", "--file"],
  ["--file", "--file"],
  ["--filename", "--file"],
  ["-o", "--output"],
  ["--output", "--output"],
  ["--server", "--server"],
  ["--node", "--node"],
  ["--cluster", "--cluster"],
  ["--admin-port", "--admin-port"],
  ["--xds-address", "--xds-address"],
  ["--xds-retry-base", "--xds-retry-base"],
  ["--xds-retry-max", "--xds-retry-max"],
  ["--xds-connect-timeout", "--xds-connect-timeout"],
  ["--to", "--to"],
  ["--limit", "--limit"],
  ["--before", "--before"],
  ["--keep", "--keep"],
  ["--expected-revision", "--expected-revision"],
  ["--interval", "--interval"],
  ["--token", "--token"],
  ["--data-dir", "--data-dir"],
  ["--name", "--name"],
  ["--role", "--role"],
  ["--timeout", "--timeout"],
  // Rollouts (issue 11): tcp apply --canary 10% --bake 60s.
  ["--canary", "--canary"],
  ["--canary-group", "--canary-group"],
  ["--bake", "--bake"],
  ["--ack-timeout", "--ack-timeout"],
  ["--max-5xx-increase", "--max-5xx-increase"],
  ["--min-requests", "--min-requests"],
  ["--max-connect-fail-increase", "--max-connect-fail-increase"],
  // Hidden: bounds `status --watch` in tests.
  ["--max-polls", "--max-polls"],
]);
const booleanFlags: ReadonlyMap<string, string> = new Map([
  ["--dry-run", "--dry-run"],
  ["--delta", "--delta"],
  ["--check", "--check"],
  ["--watch", "--watch"],
  ["--wait", "--wait"],
  ["--manual-promote", "--manual-promote"],
  ["-w", "--watch"],
  ["-h", "--help"],
  ["--help", "--help"],
]);

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  let command: string | undefined;
  let rest: string[] = [];
  const add = (flag: string, value: string) => flags.set(flag, [...(flags.get(flag) ?? []), value]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (command === "serve") {
      rest = argv.slice(i);
      break;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const canonical = valueFlags.get(name);
    if (canonical !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      add(canonical, value);
      continue;
    }
    const bool = booleanFlags.get(name);
    if (bool !== undefined) {
      add(bool, "true");
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown flag ${JSON.stringify(arg)}`);
    if (command === undefined) command = arg;
    else positionals.push(arg);
  }
  return { command, positionals, flags, rest };
}

export function flag(args: CliArgs, name: string): string | undefined {
  const values = args.flags.get(name);
  return values === undefined ? undefined : values[values.length - 1];
}

export function intFlag(args: CliArgs, name: string): number | undefined {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} needs a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}
