#!/usr/bin/env node
// The installed `tcp` command (package.json "bin"). The CLI is TypeScript run
// from source, which needs Node 24 (type stripping) and the
// `@ts-control-plane/source` export condition (the library's source entry). A
// bin cannot pass node flags, so this plain-JS launcher runs main.ts in a child
// with both, under the project's pinned Node (.tools/node, from `npm run setup`)
// when the Node that started it is older.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const pinned = fileURLToPath(new URL("../../../.tools/node/bin/node", import.meta.url));
const major = Number(process.versions.node.split(".")[0]);
const node = major >= 24 ? process.execPath : existsSync(pinned) ? pinned : undefined;
if (node === undefined) {
  process.stderr.write(`error: tcp needs Node 24 or later, this is ${process.version}; run \`npm run setup\` in the repository (it installs Node 24 under .tools/) or put Node 24 on PATH\n`);
  process.exit(2);
}
const child = spawn(node, ["--conditions=@ts-control-plane/source", main, ...process.argv.slice(2)], { stdio: "inherit" });
// Ctrl-C reaches the child from the terminal too; forwarding covers a signal sent to this process alone.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = signal === null ? (code ?? 1) : 128 + (constants.signals[signal] ?? 0);
});
