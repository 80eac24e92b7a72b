#!/usr/bin/env node
// The installed `tcp` command (package.json "bin"). The CLI is TypeScript run
// from source, which needs Node 24 (type stripping) and the
// `@ts-control-plane/source` export condition (the library's source entry). A
// bin cannot pass node flags, so this plain-JS launcher runs main.ts in a child
// with both, under the project's pinned Node (.tools/node, from `npm run setup`)
// when the Node that started it is older.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const pinned = fileURLToPath(new URL("../../../.tools/node/bin/node", import.meta.url));
const major = Number(process.versions.node.split(".")[0]);
const node = major >= 24 ? process.execPath : existsSync(pinned) ? pinned : undefined;
if (node === undefined) {
  process.stderr.write(`error: tcp needs Node 24 or later, this is ${process.version}; run \`npm run setup\` in the repository (it installs Node 24 under .tools/) or put Node 24 on PATH\n`);
  process.exit(2);
}
// Node's compile cache keeps the type-stripped, compiled modules on disk, keyed by their content:
// every start after the first skips stripping and compiling them (about 0.7x the wall time of
// `tcp --help`; issue 15, start-up). NODE_DISABLE_COMPILE_CACHE=1 turns it off, and Node's own
// default place for it is used unless NODE_COMPILE_CACHE names another.
const env = { ...process.env };
if (env.NODE_DISABLE_COMPILE_CACHE === undefined) env.NODE_COMPILE_CACHE ??= join(tmpdir(), "node-compile-cache");
// A fixed glibc mmap threshold: large buffers freed after an initial sync go back to the OS
// instead of staying in the heap (189 KiB of RSS per stream left after a 1,000 x 10,000 Delta
// sync, 115 KiB with it; issue 15). Other C libraries ignore it.
env.MALLOC_MMAP_THRESHOLD_ ??= "131072";
const child = spawn(node, ["--conditions=@ts-control-plane/source", main, ...process.argv.slice(2)], { stdio: "inherit", env });
// Ctrl-C reaches the child from the terminal too; forwarding covers a signal sent to this process alone.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = signal === null ? (code ?? 1) : 128 + (constants.signals[signal] ?? 0);
});
