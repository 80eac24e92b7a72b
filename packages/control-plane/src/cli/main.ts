#!/usr/bin/env node
// The `tcp` command: talks to the admin API, validates offline, or serves.
import { runCli } from "./run-cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
