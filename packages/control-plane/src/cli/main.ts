#!/usr/bin/env node
// The `tcp` command: talks to the admin API, validates offline, or serves.
import { stopOnClosedPipe } from "./cli-io.ts";
import { parseCliArgs } from "./cli-args.ts";
import { runCli } from "./run-cli.ts";

// `tcp status | head -1`: the pipe closing ends the CLI quietly (issue 8). `serve` is left out:
// exiting at once would skip its graceful shutdown.
const argv = process.argv.slice(2);
if (commandOf(argv) !== "serve") stopOnClosedPipe([process.stdout, process.stderr], (code) => process.exit(code));
process.exitCode = await runCli(argv);

function commandOf(args: readonly string[]): string | undefined {
  try {
    return parseCliArgs(args).command;
  } catch {
    return undefined; // runCli reports the usage error
  }
}
